"""What the igf kind does for the rest of learnerhub (registered in `learners/igf/__init__.py`): build from
the command line's request, summarise the build, make the IGF filter, warn on its card, a tiny example.

Nothing here imports torch until it is called; `learners/text_igf` reuses the filter and the summary.
"""

from __future__ import annotations

from typing import Any

from cards.format.errors import UsageError

from ..constants import DEFAULT_THRESHOLD

#: The arm a token- or text-level IGF learner filters in (finetune's table, evaluation records).
ARM = "igf"

USAGE = ("from transformers import Trainer, TrainingArguments\n"
         "from learners import FilteredDataset, InformationGainFilter, load_base_model\n"
         "import registry\n\n{load}"
         "learner, _ = registry.pull(\"{corpus}\", base_model=\"{base}\"{pinned},\n"
         "                          model=model, tokenizer=tokenizer)\n"
         "data = FilteredDataset(train_dataset, InformationGainFilter(learner))"
         "   # keeps what scores like the target\n"
         "trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[data.callback])\n"
         "trainer.train()")


def build(request) -> Any:
    """An attached IGF learner from `request` (None on a process other than the main one of a sharded build)."""
    from ..distributed import make_accelerator
    from .build import build_information_gain_learner

    accelerator = make_accelerator()
    learner = build_information_gain_learner(request.model, request.tokenizer, request.corpus, request.ref,
                                             request.config, target=request.target, accelerator=accelerator,
                                             progress=request.progress)
    return learner if accelerator.is_main_process or not request.distributed else None


def build_summary(learner, request, *, on: str = "on") -> str:
    """The lines `learnerhub build` prints for an IGF learner: its pairs, probe and held-out ranking."""
    metrics = learner.metadata.metrics
    pool = f" from pool {request.corpus.name!r}" if request.target is not None else ""
    lines = [f"Wrote {learner.kind} learner for corpus {learner.metadata.corpus.name!r}{pool} {on} "
             f"{request.ref.model_id} to {learner.folder}",
             f"  pairs {metrics['pairs']}, probe {learner.metadata.probe.name} ({metrics['probe_seconds']:.1f} s), "
             f"held-out Spearman {metrics['test_spearman']:.3f}, MSE {metrics['test_mse']:.3f}"]
    if "labeller_bag_of_tokens_test_spearman" in metrics:
        lines.append(f"  (the bag-of-tokens head on the same pairs: held-out Spearman "
                     f"{metrics['labeller_bag_of_tokens_test_spearman']:.3f})")
    return "\n".join(lines)


def make_filter(learner, options) -> tuple[str, Any]:
    """("igf", the IGF filter at `options.threshold`); a threshold spelled wrong is a UsageError."""
    from .filter import InformationGainFilter
    from .thresholds import parse_threshold

    try:
        threshold = parse_threshold(getattr(options, "threshold", None) or DEFAULT_THRESHOLD)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return ARM, InformationGainFilter(learner, threshold)


def example(model, tokenizer) -> Any:
    """A tiny untrained IGF learner (conv head) built for `model`, for tests."""
    import torch

    from ..fingerprint import embedding_fingerprint, tokenizer_fingerprint
    from cards.format.metadata_sections import BaseModelInfo, CorpusInfo, ProbeInfo
    from cards.format.metadata import LearnerMetadata
    from .conv_head import InformationGainHead
    from .learner import InformationGainLearner

    torch.manual_seed(0)
    weight = model.get_input_embeddings().weight
    metadata = LearnerMetadata(kind="igf", base_model=BaseModelInfo(model_id="tiny/gpt2"),
                               tokenizer_fingerprint=tokenizer_fingerprint(tokenizer),
                               embedding_fingerprint=embedding_fingerprint(weight),
                               corpus=CorpusInfo(name="tiny", fingerprint="sha256:0"), probe=ProbeInfo(name="fast"))
    return InformationGainLearner(InformationGainHead(int(weight.shape[1]), channels=8, hidden=4), metadata)
