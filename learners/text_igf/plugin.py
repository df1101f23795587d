"""What the igf_text kind does for the rest of learnerhub (registered in `learners/text_igf/__init__.py`): the
build from the command line's request (the labelling model measures the gains), its summary and a tiny
example; it filters with the IGF filter (`learners.igf.plugin.make_filter`)."""

from __future__ import annotations

from typing import Any

from cards.format.errors import UsageError

from ..igf import plugin as igf_plugin


def build(request) -> Any:
    """A text-level learner labelled by `request.model` (None on a non-main process of a sharded build)."""
    from ..distributed import make_accelerator
    from .build import build_text_learner

    accelerator = make_accelerator()
    learner = build_text_learner(request.model, request.tokenizer, request.corpus, request.ref, request.config,
                                 target=request.target, accelerator=accelerator, progress=request.progress)
    return learner if accelerator.is_main_process or not request.distributed else None


def check_options(options) -> None:
    """--head chooses an igf learner's head; this kind reads text and has no such choice."""
    if getattr(options, "head", None):
        raise UsageError("--head chooses the head of an igf learner; a igf_text learner reads text.")


def build_summary(learner, request) -> str:
    return igf_plugin.build_summary(learner, request, on="for any base model, labelled by")


def example(model, tokenizer) -> Any:
    """A tiny text-level learner (a ridge head fitted on twelve short texts), for tests."""
    import dataclasses

    import torch

    from cards.format.constants import ANY_BASE_MODEL
    from cards.format.metadata_sections import BaseModelInfo
    from .features import TextFeatures
    from .head import TextRidgeHead
    from .learner import TextInformationGainLearner

    head = TextRidgeHead(TextFeatures(buckets=256))
    texts = [f"text {i} " * (i % 4 + 1) for i in range(12)]
    head.fit(head.features.transform(texts), torch.arange(12, dtype=torch.float64).numpy())
    metadata = dataclasses.replace(igf_plugin.example(model, tokenizer).metadata, kind="igf_text",
                                   tokenizer_fingerprint="", embedding_fingerprint={},
                                   base_model=BaseModelInfo(model_id=ANY_BASE_MODEL),
                                   labeller=BaseModelInfo(model_id="tiny/gpt2"))
    return TextInformationGainLearner(head, metadata)
