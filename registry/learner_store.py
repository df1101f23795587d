"""The registry as the store behind `Learner.push_to_hub` and `load_learner("org/name@1.2", ...)`.

Errors of the Hugging Face client leave as `HubRequestError` with one line that says what to try
(`registry.hub_errors`, the command line's wording).
Declared in pyproject.toml as the `learnerhub.stores` entry point (see `learners.store_lookup`).
"""

from __future__ import annotations

from pathlib import Path

from .client import download_reference, publish
from .constants import DEFAULT_ORG
from .errors import InvalidVersionError
from .format.metadata import LearnerMetadata
from .hub_errors import hub_errors_said_plainly
from .naming import learner_repository_name
from .store import PublishedLearner


class RegistryStorePlugin:
    """Publishes through `registry.publish`, fetches through `registry.client.download_reference`."""

    def publish_folder(self, folder: Path, *, version: str, repo_id: str | None, store: str | Path | None,
                       endpoint: str | None, token: str | None) -> PublishedLearner:
        org, _, name = (repo_id or DEFAULT_ORG).partition("/")
        derived = learner_repository_name(LearnerMetadata.load(folder))
        if name and name != derived:
            raise InvalidVersionError(f"This learner's repository is named {derived!r} (from its kind, base model and "
                                      f"corpus), not {name!r}: push it to {org}/{derived}, or just to {org!r}.")
        with hub_errors_said_plainly():
            return publish(folder, version=version, org=org, store=store, endpoint=endpoint, token=token)

    def fetch_reference(self, reference: str, *, store: str | Path | None, endpoint: str | None, token: str | None,
                        cache_dir: str | Path | None) -> Path:
        with hub_errors_said_plainly():
            return download_reference(reference, store=store, endpoint=endpoint, token=token,
                                      cache_dir=cache_dir).folder


PLUGIN = RegistryStorePlugin()
