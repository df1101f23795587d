"""The filter-driving protocol, written once: how a batch of candidates passes a `ContextFilter`, and the
counts of what each step spared. The learnerhub loop and the `Trainer` integration both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ...context_filter import ContextFilter
from ...corpora.examples import Examples


@dataclass
class FilterCounts:
    """Per-example counts of one run: what was seen, what each hook spared, what was trained on."""

    seen: int = 0
    skipped_before_forward: int = 0     # rejected before the LM saw them: no forward, no backward
    forwarded_for_filter: int = 0       # a no-grad forward so the filter could read their losses
    skipped_after_forward: int = 0      # rejected on their loss: a forward but no backward
    trained: int = 0                    # forward and backward
    steps_without_backward: int = 0     # (Trainer) steps where nothing survived

    def __getitem__(self, name: str) -> int:
        return getattr(self, name)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def acceptance_rate(self) -> float:
        """Fraction of the candidates seen that the filter let through."""
        if not self.seen:
            return 1.0
        return 1.0 - (self.skipped_before_forward + self.skipped_after_forward) / self.seen


def screen(context_filter: ContextFilter, candidates: Examples, step: int, counts: FilterCounts,
           losses_of: Callable[[Examples], torch.Tensor]) -> Examples:
    """The candidates `context_filter` accepts at `step`: `select_before_forward` first; then, when the
    filter wants losses, `losses_of(survivors)` (a no-grad forward, on the caller's model and device)
    and `select_after_forward`. Filters see token ids on the CPU.
    """
    counts.seen += len(candidates)
    keep = context_filter.select_before_forward(candidates.input_ids.cpu(), step)
    counts.skipped_before_forward += int((~keep).sum())
    candidates = candidates[keep.to(candidates.input_ids.device)]
    if len(candidates) and context_filter.wants_losses(step):
        with torch.no_grad():
            losses = losses_of(candidates).float().cpu()
        counts.forwarded_for_filter += len(candidates)
        keep = context_filter.select_after_forward(candidates.input_ids.cpu(), losses, step)
        counts.skipped_after_forward += int((~keep).sum())
        candidates = candidates[keep.to(candidates.input_ids.device)]
    return candidates
