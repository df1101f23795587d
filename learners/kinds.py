"""The learner kinds learnerhub knows, registered once and read everywhere a kind matters.

The loader, the model cards, the command line's choices and the listing filters all ask this registry
(like peft's `register_peft_method` or timm's `@register_model`), so a third kind is one
`register_learner_kind(...)` call and its own folder, not an edit in six places. Classes are named
by import path, so asking about kinds never imports torch.

Example:
    >>> register_learner_kind(LearnerKind("mykind", "mypackage.learner:MyLearner", card_template="mykind.md",
    ...                                   method_tag="my-method", task=("my-task", "My task")))
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from .errors import LearnerFormatError


@dataclass(frozen=True)
class LearnerKind:
    """What the rest of learnerhub needs to know about a kind of learner."""

    name: str
    learner_class: str                       # "module:Class", with `load(folder, model, tokenizer)`
    card_template: str                       # file name in the `cards` package
    method_tag: str                          # the Hub tag naming the method
    task: tuple[str, str]                    # (task type, task name) of the learner's own quality in the model-index
    quality_metrics: tuple[str, ...] = field(default=())   # learner.json metrics shown in the model-index
    needs_evaluation: bool = False           # cards warn when no fine-tuning evaluation is recorded
    any_base_model: bool = False             # reads text, not token ids: one learner serves every base model

    def load_class(self) -> type:
        module, _, name = self.learner_class.partition(":")
        return getattr(importlib.import_module(module), name)


_KINDS: dict[str, LearnerKind] = {}


def register_learner_kind(kind: LearnerKind) -> LearnerKind:
    """Make `kind` known to the loader, the cards and the command line (a second registration replaces it)."""
    _KINDS[kind.name] = kind
    return kind


def learner_kind(name: str) -> LearnerKind:
    """The registered kind `name`; a learner of an unknown kind is a format error that says what is known."""
    if name not in _KINDS:
        raise LearnerFormatError(f"Unknown learner kind {name!r}; this learnerhub knows {learner_kinds()}. "
                                 "Upgrade learnerhub.")
    return _KINDS[name]


def learner_kinds() -> list[str]:
    return sorted(_KINDS)


register_learner_kind(LearnerKind(
    "igf", "learners.igf.learner:InformationGainLearner", card_template="igf_learner.md",
    method_tag="information-gain-filtration", task=("information-gain-prediction", "Information gain prediction"),
    quality_metrics=("test_spearman",), needs_evaluation=True))
register_learner_kind(LearnerKind(
    "streaming", "learners.streaming.learner:StreamingLearner", card_template="streaming_learner.md",
    method_tag="multistage-data-filtering", task=("loss-threshold-prediction", "Meta predictor (loss above threshold)"),
    quality_metrics=("predictor_accuracy",)))
register_learner_kind(LearnerKind(
    "igf_text", "learners.text_igf.learner:TextInformationGainLearner", card_template="igf_text_learner.md",
    method_tag="information-gain-filtration", task=("information-gain-prediction", "Information gain prediction"),
    quality_metrics=("test_spearman",), needs_evaluation=True, any_base_model=True))
