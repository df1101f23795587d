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


@dataclass(frozen=True)
class TopFraction:
    """Keep the `keep` fraction of contexts the learner scores highest on its pool, at every step.

    A constant threshold placed at the learner's calibrated quantile: in a mixed pool, information
    gain separates target from off-target text, and a constant cut keeps the target side throughout,
    where the paper's schedule lets the off-target text back in once it drops to -1.
    """

    keep: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.keep <= 1:
            raise ValueError(f"top:{self.keep}: the fraction kept must be in (0, 1].")

    def resolve(self, learner) -> ConstantThreshold:
        return ConstantThreshold(learner.score_quantile(1.0 - self.keep))

    def at(self, step: int) -> float:
        raise RuntimeError("A TopFraction threshold is resolved against a learner's calibration first.")

    def describe(self) -> dict:
        return {"kind": "top", "keep": self.keep}


def parse_threshold(text: str) -> Threshold | TopFraction:
    """`top:FRACTION`, `shifting`, `shifting:START,END,STEP`, `constant` or `constant:VALUE` (--threshold)."""
    kind, _, args = text.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
        if kind == "constant" and len(values) <= 1:
            return ConstantThreshold(*values)
        if kind == "shifting" and len(values) in (0, 3):
            return ShiftingThreshold(*values[:2], int(values[2])) if values else ShiftingThreshold()
        if kind == "top" and len(values) <= 1 and all(0 < v <= 1 for v in values):
            return TopFraction(*values)
    except ValueError:
        pass
    raise ValueError(f"Bad threshold {text!r}: use `top:FRACTION` (e.g. top:0.5 keeps the learner's top half), "
                     "`shifting`, `shifting:START,END,STEP` (e.g. shifting:1,-1,10), `constant` or `constant:VALUE` "
                     "(values in standard deviations of predicted gain).")


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
                "learner": {"corpus": self.learner.metadata.corpus.get("name"),
                            "probe": self.learner.metadata.probe.get("name")}}
