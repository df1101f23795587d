"""The IGF filter: skips contexts whose predicted information gain is under a threshold."""

from __future__ import annotations

import torch

from ..context_filter import ContextFilter
from ..constants import DEFAULT_THRESHOLD
from .thresholds import CalibratedThreshold, Threshold, parse_threshold


class InformationGainFilter(ContextFilter):
    """Skips contexts whose predicted information gain is under the threshold, before the LM sees them.

    Example:
        >>> igf = InformationGainFilter(learner)   # the default: keep what scores at least like typical target text
        >>> half = InformationGainFilter(learner, TopFraction(0.5))   # keep the pool's top half
        >>> paper = InformationGainFilter(learner, ShiftingThreshold(start=1.0, end=-1.0, shift_step=10))
    """

    name = "igf"

    def __init__(self, learner, threshold: Threshold | CalibratedThreshold | None = None) -> None:
        if not learner.attached:
            raise RuntimeError("Attach the learner to the base model first: learner.attach(model, tokenizer).")
        self.learner = learner
        self.requested = threshold or parse_threshold(DEFAULT_THRESHOLD)
        self.threshold = self.requested.resolve(learner) if hasattr(self.requested, "resolve") else self.requested
        self.score = getattr(learner, self.requested.score_name(learner) if hasattr(self.requested, "score_name")
                             else "score")

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return self.score(input_ids) >= self.threshold.at(step)

    def describe(self) -> dict:
        threshold = {**self.requested.describe(), "value": self.threshold.at(0)} \
            if hasattr(self.requested, "resolve") else self.threshold.describe()
        if hasattr(self.requested, "chosen"):   # the default: which target level this learner got
            threshold["uses"] = self.requested.chosen(self.learner).describe()["kind"]
        return {"name": self.name, "threshold": threshold,
                "learner": {"corpus": self.learner.metadata.corpus.name,
                            "probe": self.learner.metadata.probe.name if self.learner.metadata.probe else None}}
