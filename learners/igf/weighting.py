"""Weighting *within* the target: train on every context, each loss weighted by its predicted gain.

Why: with ample target data, keeping or skipping contexts tops out at the clean target (the regimes
benchmark); the literature's gains over the clean target come from weighting inside it (Rho-1: +16% over all
tokens of the same corpus). This is the by-context version: a batch's weights are a softmax of the learner's
standardised scores at inverse temperature `sharpness`, scaled to mean 1, so the loss keeps its scale and
`sharpness` 0 is plain fine-tuning.
"""

from __future__ import annotations

import torch

from ..context_filter import ContextFilter

DEFAULT_SHARPNESS = 0.5


class GainWeighting(ContextFilter):
    """Keeps every context; weights each one's loss by exp(sharpness x its score), normalised over the batch.

    Example:
        >>> finetune(model, split.train, split.test, GainWeighting(learner, sharpness=0.5))
    """

    name = "igf_weighted"

    def __init__(self, learner, sharpness: float = DEFAULT_SHARPNESS) -> None:
        if not learner.attached:
            raise RuntimeError("Attach the learner to the base model first: learner.attach(model, tokenizer).")
        if not sharpness >= 0:
            raise ValueError(f"sharpness must be >= 0, not {sharpness}.")
        self.learner, self.sharpness = learner, float(sharpness)

    def loss_weights(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        scores = self.learner.score(input_ids).float()
        return torch.softmax(self.sharpness * scores, dim=0) * len(scores)

    def describe(self) -> dict:
        return {"name": self.name, "sharpness": self.sharpness,
                "learner": {"corpus": self.learner.metadata.corpus.name}}
