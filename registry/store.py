"""What every learner store offers (`Store`), what it answers with, and how a store is chosen.

The embedded local git store and the Hugging Face Hub (or any Hub-compatible server) implement the
same protocol, so publishing, listing and pulling do not care where learners live.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from .constants import STORE_ENV, default_store_path
from .manifest import Manifest


class LearnerSummary(NamedTuple):
    """One repository, as `list` shows it (a NamedTuple: 10,000 of them are built in milliseconds)."""

    repo_id: str
    kind: str
    base_model: str
    corpus: str
    dataset_id: str | None
    latest: str | None
    versions: str  # space-separated, oldest first

    def to_dict(self) -> dict:
        return {**self._asdict(), "versions": self.versions.split()}


@dataclass(frozen=True)
class PublishedLearner:
    """What `publish` made: the repository, the version (tag v<version>), its commit and file hashes."""

    repo_id: str
    version: str
    commit: str
    store: str
    files: dict[str, str]
    is_latest: bool

    def to_dict(self) -> dict:
        return asdict(self)


class Store(Protocol):
    """A place learners are published to and pulled from."""

    location: str

    def publish(self, source: Path, *, version: str, org: str) -> PublishedLearner:
        """Publish the learner folder `source` as `version`; raise VersionExistsError if it exists."""

    def list_learners(self, *, corpus: str | None = None, base_model: str | None = None, kind: str | None = None,
                      org: str | None = None, refresh: bool = False) -> list[LearnerSummary]:
        """Repositories matching every filter given (corpus name or dataset id; `*` wildcards allowed)."""

    def corpus_names(self) -> list[str]:
        """Every corpus name and dataset id in the store (for "did you mean" messages)."""

    def versions(self, repo_id: str) -> dict[str, str]:
        """Published version -> commit sha, read from the repository itself (never from an index)."""

    def read_file(self, repo_id: str, commit: str, path: str) -> bytes:
        """One file of one commit (learner.json, the manifest) without fetching the whole version."""

    def fetch(self, repo_id: str, commit: str, manifest: Manifest, *,
              expected: dict[str, str] | None = None) -> Path:
        """A local folder holding the version at `commit`, every file verified against `manifest`."""


def open_store(store: str | Path | None = None, *, endpoint: str | None = None, token: str | None = None,
               cache_dir: str | Path | None = None) -> Store:
    """The store to use: `endpoint` (or an http(s) `store`) is a Hub-compatible server, else a local folder.

    With neither, `$LEARNERHUB_STORE` (a path or a URL) or `LEARNERHUB_HOME/store`.

    Example:
        >>> open_store("/data/learners")                       # local git store
        >>> open_store(endpoint="https://huggingface.co")      # the Hub (token from HF_TOKEN or hf login)
    """
    if endpoint is None and store is None and os.environ.get(STORE_ENV, "").startswith(("http://", "https://")):
        endpoint = os.environ[STORE_ENV]
    if endpoint is None and isinstance(store, str) and store.startswith(("http://", "https://")):
        endpoint, store = store, None
    if endpoint is not None:
        from .hub_store import HubStore

        return HubStore(endpoint, token=token, cache_dir=cache_dir)
    from .local_store import LocalStore

    return LocalStore(Path(store).expanduser() if store is not None else default_store_path(), cache_dir=cache_dir)
