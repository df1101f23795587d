"""The IGF filter: skips contexts whose predicted information gain is under a threshold."""

from __future__ import annotations

import torch

from ..context_filter import ContextFilter
from .thresholds import Threshold, TopFraction


class InformationGainFilter(ContextFilter):
    """Skips contexts whose predicted information gain is under the threshold, before the LM sees them.

    Example:
        >>> igf = InformationGainFilter(learner, TopFraction(0.5))   # the default: keep the learner's top half
        >>> paper = InformationGainFilter(learner, ShiftingThreshold(start=1.0, end=-1.0, shift_step=10))
    """

    name = "igf"

    def __init__(self, learner, threshold: Threshold | TopFraction | None = None) -> None:
        if not learner.attached:
            raise RuntimeError("Attach the learner to the base model first: learner.attach(model, tokenizer).")
        self.learner = learner
        self.requested = threshold or TopFraction(0.5)
        self.threshold = self.requested.resolve(learner) if isinstance(self.requested, TopFraction) else self.requested

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return self.learner.score(input_ids) >= self.threshold.at(step)

    def describe(self) -> dict:
        return {"name": self.name, "threshold": {**self.requested.describe(), "value": self.threshold.at(0)}
                if isinstance(self.requested, TopFraction) else self.threshold.describe(),
                "learner": {"corpus": self.learner.metadata.corpus.name,
                            "probe": self.learner.metadata.probe.name if self.learner.metadata.probe else None}}
