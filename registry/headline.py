"""The headline evaluation of a learner version: the one effect people decide from, with its CI, p and seeds.

One rule picks it (the newest well-formed `learnerhub eval` record whose pool differs from its target, else
the newest), and one order ranks by it, so the card, the pages, the leaderboard and `learnerhub info` /
`list` never disagree. It reads learner.json as a plain dict: a field of the wrong type is skipped, never
trusted (the server shows versions it did not write).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from learners.finetuning.effect import VERDICTS, describe_effect, effect_verdict


def finite_number(value: Any) -> float | None:
    """`value` as a finite float, or None for anything else (bools, strings, NaN, infinities, huge ints)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:
            return None
        return value if math.isfinite(value) else None
    return None


def _effect(value: Any) -> dict | None:
    """An effect summary with a usable ratio, its other fields numbers or None."""
    if not isinstance(value, dict) or finite_number(value.get("median_ratio")) is None:
        return None
    cleaned = {key: finite_number(value.get(key)) for key in ("median_ratio", "ci_low", "ci_high", "p_value")}
    seeds = value.get("seeds")
    cleaned["seeds"] = seeds if isinstance(seeds, int) and not isinstance(seeds, bool) else None
    if cleaned["ci_low"] is None or cleaned["ci_high"] is None:
        cleaned["ci_low"] = cleaned["ci_high"] = None
    return cleaned


def headline_record(evaluations: Any) -> dict | None:
    """The evaluation record a version is judged by (see the module docstring), or None."""
    valid = [record for record in (evaluations if isinstance(evaluations, list) else [])
             if isinstance(record, dict) and isinstance(record.get("effect"), dict)
             and _effect(record["effect"].get("final")) is not None]
    mixed = [r for r in valid if isinstance(r.get("regime"), dict) and r["regime"].get("target_is_pool") is False]
    return (mixed or valid)[-1] if valid else None


@dataclass(frozen=True)
class Headline:
    """A version's headline effect: igf / standard test perplexity, median over paired seeds (below 1: helps)."""

    ratio: float
    ci_low: float | None
    ci_high: float | None
    seeds: int | None
    p_value: float | None
    verdict: str                    # one of learners.finetuning.effect.VERDICTS
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
    if record is None:
        return None
    effect = _effect(record["effect"]["final"])
    random = _effect(record["effect"].get("vs_random_final"))
    regime = record.get("regime") if isinstance(record.get("regime"), dict) else {}

    def name(role: str) -> str | None:
        value = regime.get(role)
        return str(value["name"]) if isinstance(value, dict) and "name" in value else None

    evaluation = record.get("id")
    return Headline(ratio=effect["median_ratio"], ci_low=effect["ci_low"], ci_high=effect["ci_high"],
                    seeds=effect["seeds"], p_value=effect["p_value"], verdict=effect_verdict(effect),
                    line=describe_effect({**effect, "seeds": effect["seeds"] or "?"}),
                    vs_random=random["median_ratio"] if random else None,
                    acceptance_rate=finite_number(record.get("acceptance_rate")), target=name("target"),
                    pool=name("pool"), evaluation=str(evaluation) if evaluation is not None else None)
