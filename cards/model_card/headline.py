"""The headline evaluation of a learner version: the one effect people decide from, with its CI, p and seeds.

One rule picks it (the newest well-formed `learnerhub eval` record whose pool differs from its target, else
the newest), and one order ranks by it, so the card, the pages, the leaderboard and `learnerhub info` /
`list` never disagree. It reads learner.json as a plain dict, its records through the typed
`cards.format.evaluation_records` (a field of the wrong type is skipped, never trusted: the server shows versions it
did not write).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ..format.evaluation_records import EvaluationRecord, usable_records
from ..format.effect_wording import VERDICTS, describe_effect, effect_verdict


def finite_number(value: Any) -> float | None:
    """`value` as a finite float, or None for anything else (bools, strings, NaN, infinities, huge ints)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:
            return None
        return value if math.isfinite(value) else None
    return None


def headline_record(evaluations: Any) -> EvaluationRecord | None:
    """The evaluation record a version is judged by (see the module docstring), typed, or None."""
    usable = [record for record, _ in usable_records(evaluations)]
    mixed = [record for record in usable if record.on_a_pool]
    return (mixed or usable)[-1] if usable else None


@dataclass(frozen=True)
class Headline:
    """A version's headline effect: igf / standard test perplexity, median over paired seeds (below 1: helps)."""

    ratio: float
    ci_low: float | None
    ci_high: float | None
    seeds: int | None
    p_value: float | None
    verdict: str                    # one of cards.format.effect_wording.VERDICTS
    line: str                       # describe_effect's full sentence
    vs_random: float | None = None  # the same ratio against random filtering at the learner's acceptance rate
    acceptance_rate: float | None = None
    target: str | None = None
    pool: str | None = None
    evaluation: str | None = None   # the record's id

    @property
    def loses_to_random(self) -> bool:
        """Random filtering at the same rate did at least as well: the ranking added nothing."""
        return self.vs_random is not None and self.vs_random >= 1

    @property
    def words(self) -> str:
        """The verdict, and "loses to random" when it does: what a table cell says."""
        return self.verdict + (", loses to random" if self.loses_to_random else "")

    @property
    def ratio_with_ci(self) -> str:
        """`0.914 [0.897-0.933]`, or the ratio alone when there is no CI."""
        if self.ci_low is None or self.ci_high is None:
            return f"{self.ratio:.3f}"
        return f"{self.ratio:.3f} [{self.ci_low:.3f}-{self.ci_high:.3f}]"

    @property
    def regime(self) -> str:
        return f"target {self.target or '?'}, pool {self.pool or '?'}"

    def rank_key(self) -> tuple:
        """Sort key, best first: significantly better, then weaker verdicts, then worse; within, the lower
        ratio, then the narrower CI, then the one that beats random."""
        width = self.ci_high - self.ci_low if self.ci_low is not None and self.ci_high is not None else math.inf
        return (VERDICTS.index(self.verdict), self.ratio, width, self.loses_to_random)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "loses_to_random": self.loses_to_random, "words": self.words,
                "ratio_with_ci": self.ratio_with_ci}


def headline(learner: Any) -> Headline | None:
    """The headline effect of a learner.json (a dict), or None when no usable evaluation is recorded."""
    record = headline_record(learner.get("evaluations") if isinstance(learner, dict) else None)
    if record is None or record.effect is None:
        return None
    effect, random = record.effect.final, record.effect.vs_random_final
    regime = record.regime
    target = regime.target.name if regime is not None and regime.target is not None else None
    pool = regime.pool.name if regime is not None and regime.pool is not None else None
    return Headline(ratio=effect.median_ratio, ci_low=effect.ci_low, ci_high=effect.ci_high,
                    seeds=effect.seeds, p_value=effect.p_value, verdict=effect_verdict(effect.summary()),
                    line=describe_effect({**effect.summary(), "seeds": effect.seeds or "?"}),
                    vs_random=random.median_ratio if random else None, acceptance_rate=record.acceptance_rate,
                    target=target, pool=pool, evaluation=record.id)
