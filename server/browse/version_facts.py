"""What the catalog knows of each published version (commit, learner.json, metrics), read once.

Published versions are immutable, so a version's facts are read through git once and kept in memory;
they are also kept in `<store>/.learnerhub/catalog_facts.json`, each with the sha its tag pointed to,
so a restarted server sorts by metric without reading every learner.json through git again. A fact
whose tag now points elsewhere (a repository deleted and published anew) is read afresh.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cards.format.constants import LEARNER_FILE
from cards.format.metadata import checked_learner_json
from cards.model_card.headline import Headline, headline
from registry.local.repository_reader import RepositoryReader
from registry.versions import tag_name

from .metrics import numeric_metrics

MAX_CACHED_FACTS = 65536                   # versions' facts held in memory (a published version each)
FACTS_CACHE_FILE = "catalog_facts.json"   # in the store's .learnerhub folder, beside the listing index
FACTS_CACHE_FORMAT = 2   # 2: metrics include the headline evaluation


@dataclass(frozen=True)
class VersionFacts:
    """One published version: its commit, learner.json and the numeric metrics (plus the IGF ratio)."""

    version: str
    commit: str
    learner: dict
    metrics: dict[str, float]
    tag_target: str | None = None   # what the version's tag pointed to when read (commit or tag object)

    @property
    def created_at(self) -> str:
        return str(self.learner.get("created_at") or "")

    @property
    def headline(self) -> Headline | None:
        """The evaluation this version is judged by (None: unevaluated), as every page and listing shows it."""
        return headline(self.learner)


class VersionFactsCache:
    """Facts by (repository, version): memory first, then the file kept across restarts, then git."""

    def __init__(self, reader: RepositoryReader, cache_file: Path | None) -> None:
        self.reader = reader
        self._facts: dict[tuple[str, str], VersionFacts | None] = {}
        self._lock = threading.Lock()
        self._cache_file = cache_file
        self._persisted = self._load_persisted()
        self._unsaved = False

    def __len__(self) -> int:
        """How many versions are held in memory (bounded by MAX_CACHED_FACTS)."""
        return len(self._facts)

    def facts(self, repo_id: str, version: str) -> VersionFacts | None:
        """learner.json of one version (None if the version or its learner.json is missing)."""
        key = (repo_id, version)
        if key in self._facts:
            return self._facts[key]
        facts = self._from_persisted(repo_id, version)
        if facts is None:
            facts = self._read_facts(repo_id, version)
            self._unsaved = self._unsaved or facts is not None
        with self._lock:  # bounded: the routes ask only for published versions, but a store can hold many
            if len(self._facts) >= MAX_CACHED_FACTS:
                self._facts.clear()
            self._facts[key] = facts
        return facts

    def forget(self, repo_id: str) -> None:
        """Drop the facts of a repository that was deleted, moved or re-created (its versions may differ)."""
        with self._lock:
            self._facts = {key: facts for key, facts in self._facts.items() if key[0] != repo_id}
            self._persisted = {key: entry for key, entry in self._persisted.items()
                               if not key.startswith(f"{repo_id}@")}

    def _read_facts(self, repo_id: str, version: str) -> VersionFacts | None:
        try:
            target = self.reader.ref_target(repo_id, tag_name(version))
            commit = self.reader.resolve(repo_id, tag_name(version))
            learner = checked_learner_json(json.loads(self.reader.read_text(repo_id, commit, LEARNER_FILE) or "null"))
        except Exception:  # a damaged, malformed or vanished version is listed without facts, not a server error
            return None
        return VersionFacts(version, commit, learner, numeric_metrics(learner), target)

    def _load_persisted(self) -> dict[str, dict]:
        if self._cache_file is None:
            return {}
        try:
            data = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}   # none yet, or unreadable: it is only a cache
        if not isinstance(data, dict) or data.get("format") != FACTS_CACHE_FORMAT:
            return {}
        return data.get("facts") if isinstance(data.get("facts"), dict) else {}

    def _from_persisted(self, repo_id: str, version: str) -> VersionFacts | None:
        entry = self._persisted.get(f"{repo_id}@{version}")
        if not isinstance(entry, dict) or not isinstance(entry.get("learner"), dict):
            return None
        try:
            if entry.get("tag_target") != self.reader.ref_target(repo_id, tag_name(version)):
                return None   # the tag moved (the repository was re-created): read it again
        except Exception:
            return None
        learner = entry["learner"]
        return VersionFacts(version, entry["commit"], learner, numeric_metrics(learner),
                            entry["tag_target"])

    def save(self) -> None:
        """Write the facts read so far to the cache file (atomically) if any are new."""
        if self._cache_file is None or not self._unsaved:
            return
        with self._lock:
            entries = {f"{repo}@{version}": {"commit": f.commit, "tag_target": f.tag_target, "learner": f.learner}
                       for (repo, version), f in list(self._facts.items()) if f is not None and f.tag_target}
            self._unsaved = False
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".catalog_facts-", dir=self._cache_file.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"format": FACTS_CACHE_FORMAT, "facts": {**self._persisted, **entries}}, out)
            os.replace(temporary, self._cache_file)
        except OSError:
            pass   # a read-only store still serves; it only starts cold next time
