"""What a learner's page leads with: how to use it (copyable), its measured effect, and its warnings.

Read from the version's learner.json as it is; a field of the wrong type is ignored here (the page
still renders), never trusted.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from learners.constants import SMOLLM2_ALIAS, SMOLLM2_MODEL_ID
from registry.cards import card_warnings
from registry.headline import headline


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _metadata(learner: dict) -> SimpleNamespace:
    return SimpleNamespace(kind=str(learner.get("kind", "?")), metrics=_dict(learner.get("metrics")),
                           pool=_dict(learner.get("pool")),
                           evaluations=[e for e in learner.get("evaluations") or [] if isinstance(e, dict)]
                           if isinstance(learner.get("evaluations"), list) else [])


def usage(summary, facts) -> dict[str, str]:
    """The Trainer snippet and the CLI line for exactly this version."""
    corpus = summary.corpus or "CORPUS"
    base = SMOLLM2_ALIAS if summary.base_model == SMOLLM2_MODEL_ID else (summary.base_model or "BASE_MODEL")
    kind, version = summary.kind or "igf", facts.version
    if kind == "streaming":
        python = (f"from learners import FilteringTrainer\nfrom learners.corpora.tasks import CausalLMTask\nimport registry\n\n"
                  f"learner, _ = registry.pull(\"{corpus}\", base_model=\"{base}\", kind=\"streaming\", "
                  f"version=\"{version}\",\n                          model=model, tokenizer=tokenizer)\n"
                  "trainer = FilteringTrainer(model=model, args=args, train_dataset=train_dataset,\n"
                  "                           context_filter=learner.make_filter(), task=CausalLMTask())")
    else:
        python = (f"from learners import FilteredDataset, InformationGainFilter, TopFraction\nimport registry\n\n"
                  f"learner, _ = registry.pull(\"{corpus}\", base_model=\"{base}\", version=\"{version}\",\n"
                  "                          model=model, tokenizer=tokenizer)\n"
                  "data = FilteredDataset(train_dataset, InformationGainFilter(learner, TopFraction(0.5)))\n"
                  "trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[data.callback])")
    cli = f"learnerhub pull {corpus} --base-model {base} --kind {kind} --version {version}"
    return {"python": python, "cli": cli}


def effect_summary(facts) -> dict[str, Any]:
    """The headline effect (`registry.headline`: the one the list and the leaderboard rank by) and warnings."""
    learner = facts.learner if isinstance(facts.learner, dict) else {}
    try:
        warnings = card_warnings(_metadata(learner))
    except (TypeError, ValueError, AttributeError, KeyError):
        warnings = ["This version's evaluation records are malformed; its effect is unknown."]
    head = headline(learner)
    if head is None:
        return {"line": None, "regime": None, "warnings": warnings}
    return {"line": f"igf / standard test perplexity: {head.line}", "warnings": warnings, "regime": head.regime}
