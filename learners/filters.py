"""Context filters: decide which candidate contexts the language model trains on.

The fine-tuning loop asks a filter twice: `select_before_forward` (the LM has not seen the contexts:
a context rejected here costs neither a forward nor a backward pass) and `select_after_forward` (with
each context's loss, for filters such as the streaming loss threshold that need it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from .constants import DEFAULT_SHIFT_END, DEFAULT_SHIFT_START, DEFAULT_SHIFT_STEP


class Threshold(Protocol):
    def at(self, step: int) -> float: ...

    def describe(self) -> dict: ...


@dataclass(frozen=True)
class ConstantThreshold:
    """Accept contexts whose predicted z-scored gain is at least `value`, at every step."""

    value: float = 0.0

    def at(self, step: int) -> float:
        return self.value

    def describe(self) -> dict:
        return {"kind": "constant", "value": self.value}


@dataclass(frozen=True)
class ShiftingThreshold:
    """The paper's schedule: strict (`start`) for the first `shift_step` optimizer steps, then `end`."""

    start: float = DEFAULT_SHIFT_START
    end: float = DEFAULT_SHIFT_END
    shift_step: int = DEFAULT_SHIFT_STEP

    def at(self, step: int) -> float:
        return self.start if step < self.shift_step else self.end

    def describe(self) -> dict:
        return {"kind": "shifting", "start": self.start, "end": self.end, "shift_step": self.shift_step}


def parse_threshold(text: str) -> Threshold:
    """`shifting`, `shifting:START,END,STEP`, `constant` or `constant:VALUE` (the CLI's --threshold)."""
    kind, _, args = text.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
        if kind == "constant" and len(values) <= 1:
            return ConstantThreshold(*values)
        if kind == "shifting" and len(values) in (0, 3):
            return ShiftingThreshold(*values[:2], int(values[2])) if values else ShiftingThreshold()
    except ValueError:
        pass
    raise ValueError(f"Bad threshold {text!r}: use `shifting`, `shifting:START,END,STEP` (e.g. shifting:1,-1,10), "
                     "`constant` or `constant:VALUE` (values in standard deviations of predicted gain).")


class ContextFilter:
    """Accepts everything. Subclasses override the hooks they need; the loop calls, in order:

    1. `select_before_forward(input_ids, step)`: the model has not seen the candidates yet;
    2. when `wants_losses(step)`: a no-grad forward on the survivors, then
       `select_after_forward(input_ids, losses, step)`;
    3. after each training step, `observe_training(input_ids, losses, step)` with the per-example
       losses of the batch just trained on.
    """

    name = "none"

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return torch.ones(len(input_ids), dtype=torch.bool)

    def wants_losses(self, step: int) -> bool:
        return False

    def select_after_forward(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> torch.Tensor:
        return torch.ones(len(input_ids), dtype=torch.bool)

    def observe_training(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> None:
        """Called with every trained batch's per-example losses (for filters that adapt)."""

    def describe(self) -> dict:
        return {"name": self.name}

    def stats(self) -> dict:
        """Counters a filter keeps of its own (stages, transitions), reported with the run."""
        return {}


class InformationGainFilter(ContextFilter):
    """Skips contexts whose predicted information gain is under the threshold, before the LM sees them.

    Example:
        >>> igf = InformationGainFilter(learner, ShiftingThreshold(start=1.0, end=-1.0, shift_step=10))
    """

    name = "igf"

    def __init__(self, learner, threshold: Threshold | None = None) -> None:
        if not learner.attached:
            raise RuntimeError("Attach the learner to the base model first: learner.attach(model, tokenizer).")
        self.learner = learner
        self.threshold = threshold or ShiftingThreshold()

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return self.learner.score(input_ids) >= self.threshold.at(step)

    def describe(self) -> dict:
        return {"name": self.name, "threshold": self.threshold.describe(),
                "learner": {"corpus": self.learner.metadata.corpus.get("name"),
                            "probe": self.learner.metadata.probe.get("name")}}
