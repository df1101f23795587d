"""The filters a learner must beat to be worth publishing: random at its rate, high loss, the oracle.

- `RandomFilter` keeps each candidate with a fixed probability: run it at the learner's measured
  acceptance rate and candidate budget, and any gain left is the learner's ranking, not the drawing.
- `HighLossFilter` keeps the candidates the model currently finds hardest (the streaming filter's
  stage-1 idea, and RHO-LOSS's starting point); it pays a forward pass on every candidate.
- `OracleFilter` keeps candidates by the probe's own measured information gain, looked up from a
  table probed before training: the ceiling any learner of that probe can reach.
"""

from __future__ import annotations

import torch

from ...context_filter import ContextFilter


class RandomFilter(ContextFilter):
    """Keep each candidate with probability `rate`, independently, before the model sees it."""

    name = "random"

    def __init__(self, rate: float, *, seed: int = 0) -> None:
        if not 0 < rate <= 1:
            raise ValueError(f"A random filter's rate must be in (0, 1]; got {rate}.")
        self.rate = rate
        self.generator = torch.Generator().manual_seed(seed)

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return torch.rand(len(input_ids), generator=self.generator) < self.rate

    def describe(self) -> dict:
        return {"name": self.name, "rate": self.rate}


class HighLossFilter(ContextFilter):
    """Keep the `keep` fraction of each drawn chunk with the highest current loss."""

    name = "high_loss"

    def __init__(self, keep: float = 0.5) -> None:
        if not 0 < keep <= 1:
            raise ValueError(f"A high-loss filter keeps a fraction in (0, 1]; got {keep}.")
        self.keep = keep

    def wants_losses(self, step: int) -> bool:
        return True

    def select_after_forward(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> torch.Tensor:
        count = max(1, round(len(losses) * self.keep))
        keep = torch.zeros(len(losses), dtype=torch.bool)
        keep[losses.topk(count).indices] = True
        return keep

    def describe(self) -> dict:
        return {"name": self.name, "keep": self.keep}


def context_key(context: torch.Tensor) -> bytes:
    """A context's identity: its token ids' bytes."""
    return context.to(torch.int64).cpu().numpy().tobytes()


class OracleFilter(ContextFilter):
    """Keep candidates whose measured gain is in the top `keep` fraction of the probed table."""

    name = "oracle"

    def __init__(self, contexts: torch.Tensor, gains: torch.Tensor, *, keep: float = 0.5) -> None:
        if len(contexts) != len(gains) or len(gains) == 0:
            raise ValueError(f"The oracle needs one gain per context; got {len(contexts)} and {len(gains)}.")
        self.gains = {context_key(c): float(g) for c, g in zip(contexts, gains)}
        self.keep = keep
        self.cut = float(torch.quantile(gains.float(), 1.0 - keep))

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        try:
            gains = torch.tensor([self.gains[context_key(c)] for c in input_ids])
        except KeyError:
            raise ValueError("The oracle filter met a context it has no measured gain for: probe the whole pool "
                             "it screens first.") from None
        return gains >= self.cut

    def describe(self) -> dict:
        return {"name": self.name, "keep": self.keep, "cut": self.cut, "table": len(self.gains)}
