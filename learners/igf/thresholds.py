"""Thresholds on an IGF learner's standardised scores: constant, the paper's shifting schedule, top fraction.

`parse_threshold` reads the command line's `--threshold` spelling of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..constants import DEFAULT_SHIFT_END, DEFAULT_SHIFT_START, DEFAULT_SHIFT_STEP


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
