"""Typed evaluation records: learner.json's `evaluations`, as `learnerhub eval` writes them
(learners/finetuning/evaluation/arms.py's `evaluation_record`), read back as pydantic models.

learner.json keeps every record exactly as written (the file stays byte-compatible); these models are how
readers see one. Any JSON object is a record, so a learner with an odd record still loads and lists; a
field of the wrong type reads as absent (the server shows versions it did not write, and a field it cannot
trust is skipped, never trusted), and a record is *usable* (shown, ranked) only when its final effect has
a finite ratio. Keys these models do not name are kept (`model_extra`).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

__all__ = ["CorpusRef", "EffectSummary", "Effects", "EvaluationRecord", "Regime", "parse_record",
           "usable_records"]

T = TypeVar("T")


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The validated value, or None when it has the wrong type (a lenient field)."""
    try:
        return handler(value)
    except ValidationError:
        return None


#: A finite number (a bool is not one, nor NaN, an infinity or an int too big for a float).
Finite = Annotated[float, Field(allow_inf_nan=False)]
#: A field read as None when its value has the wrong type.
Lenient = Annotated[T | None, WrapValidator(_or_none)]


class _Record(BaseModel):
    """A JSON object with typed known fields; unknown keys kept in `model_extra`."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class EffectSummary(_Record):
    """`paired_effect`'s summary (learners/finetuning/evaluation/effect.py): the median ratio over paired seeds, its
    bootstrap 95% CI and paired Wilcoxon p (a CI with one end missing reads as no CI)."""

    median_ratio: Finite
    ci_low: Lenient[Finite] = None
    ci_high: Lenient[Finite] = None
    p_value: Lenient[Finite] = None
    seeds: Lenient[int] = None

    def model_post_init(self, context: Any) -> None:
        if self.ci_low is None or self.ci_high is None:
            object.__setattr__(self, "ci_low", None)
            object.__setattr__(self, "ci_high", None)

    def summary(self) -> dict[str, Any]:
        """The five numbers as a dict (what `describe_effect` and `effect_verdict` read)."""
        return {"median_ratio": self.median_ratio, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "p_value": self.p_value, "seeds": self.seeds}


class Effects(_Record):
    """The effect of a learner, igf over each other arm: standard fine-tuning (`final`: the headline, `best`),
    random filtering at the learner's rate, fine-tuning on the clean target, DSIR and a classifier at its rate."""

    final: EffectSummary
    best: Lenient[EffectSummary] = None
    vs_random_final: Lenient[EffectSummary] = None
    vs_target_final: Lenient[EffectSummary] = None
    #: The peers a user could pick instead (`learnerhub eval --peers`), at the learner's own rate.
    vs_dsir_final: Lenient[EffectSummary] = None
    vs_classifier_final: Lenient[EffectSummary] = None


class CorpusRef(_Record):
    """A corpus an evaluation used (`corpus_facts`: its name, fingerprint and size)."""

    name: str


class Regime(_Record):
    """What the evaluation fine-tuned towards (`target`) and filtered (`pool`)."""

    target: Lenient[CorpusRef] = None
    pool: Lenient[CorpusRef] = None
    target_is_pool: Lenient[bool] = None


class EvaluationRecord(_Record):
    """One `learnerhub eval` run: regime, protocol, per-arm results and the effect; `usable` when its final
    effect has a ratio."""

    id: Lenient[str] = None
    date: Lenient[str] = None
    regime: Lenient[Regime] = None
    effect: Lenient[Effects] = None
    acceptance_rate: Lenient[Finite] = None
    protocol: Lenient[dict[str, Any]] = None

    @property
    def usable(self) -> bool:
        return self.effect is not None

    @property
    def on_a_pool(self) -> bool:
        """The pool differed from the target (the regime selection is built for)."""
        return self.regime is not None and self.regime.target_is_pool is False

    def names(self) -> tuple[str, str] | None:
        """(target name, pool name), or None when the record does not name both."""
        regime = self.regime
        if regime is None or regime.target is None or regime.pool is None:
            return None
        return regime.target.name, regime.pool.name


def parse_record(record: Any) -> EvaluationRecord | None:
    """`record` (parsed JSON) as a typed record, or None when it is not an object."""
    try:
        return EvaluationRecord.model_validate(record)
    except ValidationError:
        return None


def usable_records(evaluations: Any) -> list[tuple[EvaluationRecord, dict]]:
    """(typed record, raw record) of each usable record of learner.json's `evaluations`, oldest first."""
    found = []
    for raw in evaluations if isinstance(evaluations, list) else []:
        record = parse_record(raw)
        if record is not None and record.usable:
            found.append((record, raw))
    return found
