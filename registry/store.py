"""What every learner store offers (`Store`), what it answers with, and how a store is chosen.

The embedded local git store and the Hugging Face Hub (or any Hub-compatible server) implement the
same protocol, so publishing, listing and pulling do not care where learners live; `open_store`
(in `store_choice`) picks one.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from .lifecycle import Lifecycle, LifecycleEvent
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


def matches_pattern(value: str | None, pattern: str | None) -> bool:
    """The one matching rule of every listing filter: case-insensitive, `*`, `?` and `[...]` wildcards.

    No pattern matches everything; a missing value matches no pattern. The sqlite index calls it too.
    """
    if not pattern:
        return True
    return value is not None and fnmatch.fnmatchcase(value.lower(), pattern.lower())


def summary_matches(summary: LearnerSummary, *, corpus: str | None = None, base_model: str | None = None,
                    kind: str | None = None, org: str | None = None) -> bool:
    """Whether a listed learner passes the filters `list_learners` takes (corpus: its name or dataset id)."""
    return ((matches_pattern(summary.corpus, corpus) or matches_pattern(summary.dataset_id, corpus))
            and matches_pattern(summary.base_model, base_model) and matches_pattern(summary.kind, kind)
            and matches_pattern(summary.repo_id.split("/")[0], org))


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

    def lifecycle(self, repo_id: str) -> Lifecycle:
        """The repository's yanks, deletions and aliases (`registry.lifecycle`); empty when it has none."""

    def record(self, repo_id: str, event: LifecycleEvent) -> Lifecycle:
        """Append `event` to the repository's lifecycle log and make its refs follow; the new state."""

    def read_file(self, repo_id: str, commit: str, path: str) -> bytes:
        """One file of one commit (learner.json, the manifest) without fetching the whole version."""

    def fetch(self, repo_id: str, commit: str, manifest: Manifest, *,
              expected: dict[str, str] | None = None) -> Path:
        """A local folder holding the version at `commit`, every file verified against `manifest`."""
