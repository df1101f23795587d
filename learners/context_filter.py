"""The context filter protocol: decide which candidate contexts the language model trains on.

The fine-tuning loop asks a filter twice: `select_before_forward` (the LM has not seen the contexts:
a context rejected here costs neither a forward nor a backward pass) and `select_after_forward` (with
each context's loss, for filters such as the streaming loss threshold that need it). Every learner
kind's filter and every reference filter implements it.
"""

from __future__ import annotations

import torch


class ContextFilter:
    """Accepts everything. Subclasses override the hooks they need; the loop calls, in order:

    1. `select_before_forward(input_ids, step)`: the model has not seen the candidates yet;
    2. when `wants_losses(step)`: a no-grad forward on the survivors, then
       `select_after_forward(input_ids, losses, step)`;
    3. `loss_weights(input_ids, step)` on the batch to train on (None: the plain mean of its losses);
    4. after each training step, `observe_training(input_ids, losses, step)` with the per-example
       losses of the batch just trained on.
    """

    name = "none"

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return torch.ones(len(input_ids), dtype=torch.bool)

    def wants_losses(self, step: int) -> bool:
        return False

    def select_after_forward(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> torch.Tensor:
        return torch.ones(len(input_ids), dtype=torch.bool)

    def loss_weights(self, input_ids: torch.Tensor, step: int) -> torch.Tensor | None:
        """Relative weight of each context's loss in the batch about to be trained on (None: equal weights).
        For weighting *within* what is kept (Rho-1-style, by context) rather than keeping or skipping."""
        return None

    def observe_training(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> None:
        """Called with every trained batch's per-example losses (for filters that adapt)."""

    def describe(self) -> dict:
        return {"name": self.name}

    def stats(self) -> dict:
        """Counters a filter keeps of its own (stages, transitions), reported with the run."""
        return {}
