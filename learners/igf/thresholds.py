"""Thresholds on an IGF learner's standardised scores: the target's own level (the default: on gain plus target
affinity when the learner has one, else on gain), a top fraction
of the pool, constant, the paper's shifting schedule.

`parse_threshold` reads the command line's `--threshold` spelling of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from cards.suggestions import did_you_mean

from ..constants import DEFAULT_SHIFT_END, DEFAULT_SHIFT_START, DEFAULT_SHIFT_STEP, DEFAULT_TARGET_QUANTILE


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


@dataclass(frozen=True)
class _TargetLevel:
    """A cut at the `quantile` of a score's distribution on held-out target text, recorded at build time."""

    quantile: float = DEFAULT_TARGET_QUANTILE
    spelling: ClassVar[str]
    #: The learner method the filter scores contexts with.
    score: ClassVar[str] = "score"

    def __post_init__(self) -> None:
        if not 0 <= self.quantile < 1:
            raise ValueError(f"{self.spelling}:{self.quantile}: the target quantile must be in [0, 1).")

    def at(self, step: int) -> float:
        raise RuntimeError(f"A {type(self).__name__} threshold is resolved against a learner's calibration first.")

    def score_name(self, learner) -> str:
        """The learner method this threshold's cut applies to."""
        return self.score

    def describe(self) -> dict:
        return {"kind": self.spelling, "quantile": self.quantile}


@dataclass(frozen=True)
class TargetQuantile(_TargetLevel):
    """Keep a context when the learner predicts at least as much gain for it as for typical *target* text.

    The cut is the `quantile` of the learner's scores on held-out target contexts, recorded at build
    time: a pool that is all target keeps about 1 - `quantile` of it, a pool half junk keeps the target
    half and what scores like it. So one default adapts to a pool's (unknown) junk fraction, where a top
    fraction must guess it. A learner built before this calibration existed falls back to its pool's
    quantile (the same thing when it was built without `--target`).
    """

    spelling: ClassVar[str] = "target"

    def resolve(self, learner) -> ConstantThreshold:
        return ConstantThreshold(learner.target_score_quantile(self.quantile))


@dataclass(frozen=True)
class AffinityQuantile(_TargetLevel):
    """Keep a context when its predicted gain *plus its target affinity* (a target-vs-pool classifier's
    log-odds; each standardised on held-out target text) is at least the target's `quantile` of that sum.

    For pools with near-domain text, which one-step gain rates like the target itself: the affinity tells
    the two apart (R5, benchmarks/README.md). Needs a learner built from a pool with --target.
    """

    spelling: ClassVar[str] = "affinity"
    score: ClassVar[str] = "affinity_score"

    def resolve(self, learner) -> ConstantThreshold:
        return ConstantThreshold(learner.affinity_quantile(self.quantile))


@dataclass(frozen=True)
class DefaultLevel(_TargetLevel):
    """The default: `affinity:Q` for a learner that carries a target affinity (built from a pool with --target),
    `target:Q` for one that does not (built on its target alone, or before affinities were recorded).

    Measured as the one default for every regime (benchmarks/README.md): it keeps a clean pool nearly whole,
    drops off-target text as `target` does, and tells near-domain text from the target where `target` cannot.
    """

    spelling: ClassVar[str] = "default"

    def chosen(self, learner) -> TargetQuantile | AffinityQuantile:
        """The threshold this learner gets."""
        return AffinityQuantile(self.quantile) if learner.has_affinity else TargetQuantile(self.quantile)

    def resolve(self, learner) -> ConstantThreshold:
        return self.chosen(learner).resolve(learner)

    def score_name(self, learner) -> str:
        return self.chosen(learner).score


#: Thresholds that are placed by a learner's calibration (`resolve(learner)`) before they are used.
CalibratedThreshold = TopFraction | TargetQuantile | AffinityQuantile | DefaultLevel


#: The forms of --threshold, as `parse_threshold` reads them.
THRESHOLD_FORMS = ("default", "target", "affinity", "top", "shifting", "constant")


def parse_threshold(text: str) -> Threshold | CalibratedThreshold:
    """`default`, `default:QUANTILE`, `target`, `target:QUANTILE`, `affinity`, `affinity:QUANTILE`,
    `top:FRACTION`, `shifting`, `shifting:START,END,STEP`, `constant` or `constant:VALUE` (--threshold)."""
    kind, _, args = text.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
        if kind == "default" and len(values) <= 1 and all(0 <= v < 1 for v in values):
            return DefaultLevel(values[0]) if values else DefaultLevel()
        if kind == "target" and len(values) <= 1 and all(0 <= v < 1 for v in values):
            return TargetQuantile(*values)
        if kind == "affinity" and len(values) <= 1 and all(0 <= v < 1 for v in values):
            return AffinityQuantile(values[0]) if values else AffinityQuantile()   # `score` is not typed in
        if kind == "constant" and len(values) <= 1:
            return ConstantThreshold(*values)
        if kind == "shifting" and len(values) in (0, 3):
            return ShiftingThreshold(values[0], values[1], int(values[2])) if values else ShiftingThreshold()
        if kind == "top" and len(values) <= 1 and all(0 < v <= 1 for v in values):
            return TopFraction(*values)
    except ValueError:
        pass
    hint = did_you_mean(kind, THRESHOLD_FORMS) if kind not in THRESHOLD_FORMS else ""
    raise ValueError(f"Bad threshold {text!r}.{hint} Use `default` or `default:QUANTILE` (affinity:QUANTILE for a "
                     f"learner built from a pool with --target, else target:QUANTILE; {DEFAULT_TARGET_QUANTILE} unless "
                     "given), `target` or `target:QUANTILE` (keeps what the learner scores at least like the target's "
                     f"lowest {DEFAULT_TARGET_QUANTILE:.0%}), `affinity` or `affinity:QUANTILE` (the same on gain plus "
                     "target-vs-pool affinity, for pools with near-domain text), `top:FRACTION` (e.g. top:0.5 "
                     "keeps the learner's top half), "
                     "`shifting`, `shifting:START,END,STEP` (e.g. shifting:1,-1,10), `constant` or `constant:VALUE` "
                     "(values in standard deviations of predicted gain).")
