"""The store as the ML library reaches it: `Learner.push_to_hub` publishes a saved folder, and
`load_learner("org/name@1.2", ...)` fetches a verified one. The library does not import the store above it:
this module registers itself when imported (`import registry` does) and is offered as the entry point
`learnerhub.learner_stores: registry` (pyproject.toml), which `learners/store_access.py` finds.

Errors of the Hugging Face client leave as `HubRequestError` with one line that says what to try
(`registry.hub.errors`, the command line's wording).
"""

from __future__ import annotations

import sys
from pathlib import Path

from learners.store_access import register_learner_store

from .client import download_reference, publish
from .constants import DEFAULT_ORG
from .errors import InvalidVersionError
from cards.format.metadata import LearnerMetadata
from .hub.errors import hub_errors_said_plainly
from cards.format.naming import learner_repository_name
from .store import PublishedLearner


def push_folder(folder: Path, *, version: str, repo_id: str | None = None, store: str | Path | None = None,
                endpoint: str | None = None, token: str | None = None) -> PublishedLearner:
    """Publish the learner folder as `version` to `repo_id` (ORG, or ORG/NAME where NAME must be the name its
    identity derives; default: the default organisation)."""
    org, _, name = (repo_id or DEFAULT_ORG).partition("/")
    derived = learner_repository_name(LearnerMetadata.load(folder))
    if name and name != derived:
        raise InvalidVersionError(f"This learner's repository is named {derived!r} (from its kind, base model and "
                                  f"corpus), not {name!r}: push it to {org}/{derived}, or just to {org!r}.")
    with hub_errors_said_plainly():
        return publish(folder, version=version, org=org, store=store, endpoint=endpoint, token=token)


def fetch_folder(reference: str, *, store: str | Path | None = None, endpoint: str | None = None,
                 token: str | None = None, cache_dir: str | Path | None = None) -> Path:
    """A verified local folder holding the published learner `ORG/NAME[@VERSION]`."""
    with hub_errors_said_plainly():
        return download_reference(reference, store=store, endpoint=endpoint, token=token, cache_dir=cache_dir).folder


register_learner_store(sys.modules[__name__])
