"""Which base models a learner works with: the one it was built on, or any (text-level kinds), and where
that has been measured (its evaluation records name the base model they fine-tuned).

A hub of learners that travel is browsed by "works with my model": a user with model X wants the learners
built on X, and the text-level learners that serve any model, those measured on X first.
"""

from __future__ import annotations

from typing import Any

from cards.format.constants import ANY_BASE_MODEL
from cards.format.evaluation_records import usable_records
from cards.format.naming import canonical_base_model

BUILT_ON = "built on it"
MEASURED_ON = "measured on it"
ANY_MODEL = "any base model, not yet measured on it"


def measured_base_models(learner: dict[str, Any] | None) -> set[str]:
    """The base models (lower-cased ids) the learner's usable evaluation records fine-tuned."""
    found = set()
    for _, raw in usable_records((learner or {}).get("evaluations")):
        model = raw.get("base_model")
        if isinstance(model, dict) and isinstance(model.get("model_id"), str):
            found.add(canonical_base_model(model["model_id"]).lower())
    return found


def works_with(base_model: str, learner: dict[str, Any] | None, model: str) -> str | None:
    """How a learner built on `base_model` (learner.json `learner`) serves `model`; None: it does not."""
    wanted = canonical_base_model(model).lower()
    if canonical_base_model(base_model).lower() == wanted:
        return BUILT_ON
    if base_model != ANY_BASE_MODEL:
        return None
    return MEASURED_ON if wanted in measured_base_models(learner) else ANY_MODEL
