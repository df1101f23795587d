"""What a learner's page leads with: how to use it (copyable), its measured effect, and its warnings.

Read from the version's learner.json as it is; a field of the wrong type is ignored here (the page
still renders), never trusted.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cards.model_card.render import card_warnings
from cards.model_card.headline import headline
from cards.model_card.usage import usage_snippets


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _metadata(learner: dict) -> SimpleNamespace:
    return SimpleNamespace(kind=str(learner.get("kind", "?")), metrics=_dict(learner.get("metrics")),
                           pool=_dict(learner.get("pool")),
                           evaluations=[e for e in learner.get("evaluations") or [] if isinstance(e, dict)]
                           if isinstance(learner.get("evaluations"), list) else [])


def usage(summary, facts) -> dict[str, str]:
    """The install line, the Trainer snippet and the CLI line for exactly this version (the card shows the same)."""
    return usage_snippets(corpus=summary.corpus, base_model=summary.base_model, kind=summary.kind,
                          version=facts.version)


def effect_summary(facts) -> dict[str, Any]:
    """The headline effect (`cards.model_card.headline`: the one the list and the leaderboard rank by) and
    warnings."""
    learner = facts.learner if isinstance(facts.learner, dict) else {}
    try:
        warnings = card_warnings(_metadata(learner))
    except (TypeError, ValueError, AttributeError, KeyError):
        warnings = ["This version's evaluation records are malformed; its effect is unknown."]
    head = headline(learner)
    if head is None:
        return {"line": None, "regime": None, "warnings": warnings}
    return {"line": f"igf / standard test perplexity: {head.line}", "warnings": warnings, "regime": head.regime}
