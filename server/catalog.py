"""What the browse API and the web page show: learners with their metrics, filtered, sorted and paged.

The registry's listing index answers "which repositories, which versions"; the metrics and dates live
in each version's learner.json, read once per (repository, version) since published versions are
immutable. The listing itself is cached until the index's signature changes (a publish, through the
registry or through this server's Hub API), so a warm list request opens neither sqlite nor git.
The facts read are also kept in `<store>/.learnerhub/catalog_facts.json`, each with the sha its tag
pointed to, so a restarted server sorts by metric without reading every learner.json through git
again; a fact whose tag now points elsewhere (a repository deleted and published anew) is read afresh.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from learners.metadata import LEARNER_FILE, checked_learner_json
from registry.constants import MANIFEST_FILE
from registry.local_store import LocalStore
from registry.store import LearnerSummary
from registry.versions import tag_name

from .git_reader import RepositoryReader
from .metrics import RATIO_METRIC, numeric_metrics
from .visibility import private_repositories

#: Which way is better, said explicitly per metric: a name's substring says nothing (`calibration_contexts`
#: is a count, not a score). Metrics not listed have no direction and are shown, never ranked.
METRIC_DIRECTIONS = {
    "perplexity_ratio": "lower", "perplexity_ratio_ci_high": "lower", "perplexity_ratio_ci_width": "lower",
    "perplexity_ratio_vs_random": "lower", "test_perplexity_standard": "lower", "test_perplexity_igf": "lower",
    "test_mse": "lower", "validation_mse": "lower", "build_seconds": "lower", "probe_seconds": "lower",
    "test_spearman": "higher", "validation_spearman": "higher", "predictor_accuracy": "higher",
}
MAX_CACHED_PAGES = 1024
MAX_CACHED_FACTS = 65536                   # versions' facts held in memory (a published version each)
FACTS_CACHE_FILE = "catalog_facts.json"   # in the store's .learnerhub folder, beside the listing index
FACTS_CACHE_FORMAT = 2   # 2: metrics include the headline evaluation


def lower_is_better(metric: str) -> bool:
    return METRIC_DIRECTIONS.get(metric) == "lower"


def is_score(metric: str) -> bool:
    """Whether a metric has a better direction at all (counts and hyperparameters have none)."""
    return metric in METRIC_DIRECTIONS


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


@dataclass(frozen=True)
class ListQuery:
    search: str | None = None
    corpus: str | None = None
    base_model: str | None = None
    kind: str | None = None
    org: str | None = None
    sort: str = "effect"   # the headline evaluation's ratio, narrower CI first; unevaluated learners last
    order: str | None = None
    page: int = 1
    per_page: int = 20
    show_private: bool = False   # private repositories (server.visibility) only for requests with a token


class Catalog:
    """Learners of one local store, as the server presents them."""

    def __init__(self, store: LocalStore, reader: RepositoryReader, *, facts_cache: Path | None = None) -> None:
        self.store = store
        self.reader = reader
        self._snapshot: tuple[str, list[LearnerSummary]] | None = None
        self._private: tuple[str, set[str]] | None = None
        self._facts: dict[tuple[str, str], VersionFacts | None] = {}
        self._pages: dict[ListQuery, tuple[str, bytes]] = {}
        self._lock = threading.Lock()
        self._cache_file = facts_cache
        self._persisted = self._load_persisted()
        self._unsaved = False

    # The listing --------------------------------------------------------------------------------
    def snapshot(self) -> tuple[str, list[LearnerSummary]]:
        """(signature, every learner); the signature changes whenever the listing may have changed."""
        signature = self.store.index.signature()
        cached = self._snapshot
        if cached is not None and cached[0] == signature:
            return cached
        learners = self.store.list_learners()
        with self._lock:
            self._snapshot = (signature, learners)
        return self._snapshot

    def visible(self, show_private: bool) -> list[LearnerSummary]:
        """The learners a request may see: all of them with a token, else the public ones."""
        signature, learners = self.snapshot()
        if show_private:
            return learners
        if self._private is None or self._private[0] != signature:
            self._private = (signature, private_repositories(self.store.models))
        return [s for s in learners if s.repo_id not in self._private[1]]

    def forget(self, repo_id: str) -> None:
        """Drop what is known of a repository that was deleted, moved or re-created (its versions may differ)."""
        with self._lock:
            self._facts = {key: facts for key, facts in self._facts.items() if key[0] != repo_id}
            self._persisted = {key: entry for key, entry in self._persisted.items()
                               if not key.startswith(f"{repo_id}@")}
            self._snapshot, self._private = None, None
            self._pages.clear()

    def cached_page(self, query: ListQuery, signature: str) -> bytes | None:
        """The JSON of `query` if it was built at this signature (the hot path of the list endpoint)."""
        cached = self._pages.get(query)
        return cached[1] if cached is not None and cached[0] == signature else None

    def page_json(self, query: ListQuery, signature: str) -> bytes:
        """`query` answered as JSON bytes, kept until the store changes (at most MAX_CACHED_PAGES queries)."""
        body = json.dumps(self.query(query)).encode()
        with self._lock:
            if len(self._pages) >= MAX_CACHED_PAGES:
                self._pages.clear()
            self._pages[query] = (signature, body)
        return body

    def summary(self, repo_id: str) -> LearnerSummary | None:
        return next((s for s in self.snapshot()[1] if s.repo_id == repo_id), None)

    def facts(self, repo_id: str, version: str | None) -> VersionFacts | None:
        """learner.json of one version (None if the version or its learner.json is missing)."""
        if version is None:
            return None
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

    def _read_facts(self, repo_id: str, version: str) -> VersionFacts | None:
        try:
            target = self.reader.ref_target(repo_id, tag_name(version))
            commit = self.reader.resolve(repo_id, tag_name(version))
            learner = checked_learner_json(json.loads(self.reader.read_text(repo_id, commit, LEARNER_FILE) or "null"))
        except Exception:  # a damaged, malformed or vanished version is listed without facts, not a server error
            return None
        return VersionFacts(version, commit, learner, numeric_metrics(learner), target)

    # The facts kept across restarts -------------------------------------------------------------
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

    def save_facts(self) -> None:
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

    def versions(self, repo_id: str) -> list[VersionFacts]:
        """Every published version, newest first."""
        published = sorted(self.store.versions(repo_id), key=Version, reverse=True)
        return [f for f in (self.facts(repo_id, v) for v in published) if f is not None]

    def query(self, query: ListQuery) -> dict[str, Any]:
        """One page of the learners matching the query, with the facts of their latest versions."""
        matching = [s for s in self.visible(query.show_private) if _matches(s, query)]
        reverse = query.order == "desc"
        if query.sort == "name":
            matching.sort(key=lambda s: s.repo_id, reverse=reverse)
        else:
            metric = {"date": None, "effect": RATIO_METRIC}.get(query.sort, query.sort.removeprefix("metric:"))
            descending = (query.order or ("asc" if metric and lower_is_better(metric) else "desc")) == "desc"
            matching.sort(key=lambda s: self._sort_value(s, metric, descending))
        start = (query.page - 1) * query.per_page
        page = matching[start:start + query.per_page]
        items = [self.describe(s) for s in page]
        self.save_facts()
        return {"total": len(matching), "page": query.page, "per_page": query.per_page,
                "pages": max(1, math.ceil(len(matching) / query.per_page)), "items": items}

    def _sort_value(self, summary: LearnerSummary, metric: str | None, descending: bool) -> tuple:
        facts = self.facts(summary.repo_id, summary.latest)
        if metric is None:
            value: Any = facts.created_at if facts else ""
            return (not value, _Reversed(value) if descending else value, summary.repo_id)
        number = facts.metrics.get(metric) if facts else None
        width = facts.metrics.get("perplexity_ratio_ci_width", math.inf) if facts else math.inf
        return (number is None, -(number or 0.0) if descending else (number or 0.0), width, summary.repo_id)

    def describe(self, summary: LearnerSummary) -> dict[str, Any]:
        facts = self.facts(summary.repo_id, summary.latest)
        return {**summary.to_dict(), "org": summary.repo_id.split("/")[0],
                "created_at": facts.created_at if facts else None,
                "commit": facts.commit if facts else None, "metrics": facts.metrics if facts else {}}

    def counts(self, field: str, *, show_private: bool = False) -> list[dict[str, Any]]:
        """How many learners each corpus (or base model) has: what the store covers."""
        found: dict[str, int] = {}
        for summary in self.visible(show_private):
            value = getattr(summary, field)
            if value:
                found[value] = found.get(value, 0) + 1
        return [{"name": name, "learners": count} for name, count in sorted(found.items())]

    # Leaderboards -------------------------------------------------------------------------------
    def leaderboard(self, corpus: str, base_model: str, *, metric: str | None = None,
                    show_private: bool = False) -> dict[str, Any]:
        """Every version of every learner for (corpus, base model), best first by `metric`."""
        rows = []
        for summary in self.visible(show_private):
            if not (_like(summary.corpus, corpus) or _like(summary.dataset_id, corpus)):
                continue
            if not _like(summary.base_model, base_model):
                continue
            for facts in self.versions(summary.repo_id):
                rows.append({"repo_id": summary.repo_id, "kind": summary.kind, "version": facts.version,
                             "commit": facts.commit, "created_at": facts.created_at, "metrics": facts.metrics,
                             "is_latest": facts.version == summary.latest})
        metrics = sorted({name for row in rows for name in row["metrics"]})
        if metric is None:
            metric = RATIO_METRIC if RATIO_METRIC in metrics else (metrics[0] if metrics else None)
        if metric is not None:
            sign = 1.0 if lower_is_better(metric) else -1.0
            rows.sort(key=lambda r: (metric not in r["metrics"], sign * r["metrics"].get(metric, 0.0),
                                     r["metrics"].get("perplexity_ratio_ci_width", math.inf),
                                     r["repo_id"], r["version"]))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        return {"corpus": corpus, "base_model": base_model, "metric": metric,
                "lower_is_better": lower_is_better(metric) if metric else None, "metrics": metrics, "rows": rows}

    def files(self, repo_id: str, commit: str) -> list[dict[str, Any]]:
        """The files of a version with size and sha256 (from the manifest)."""
        manifest = json.loads(self.reader.read_text(repo_id, commit, MANIFEST_FILE) or "{}").get("files", {})
        return [{"path": path, "size": entry.size, "sha256": manifest.get(path)}
                for path, entry in sorted(self.reader.tree(repo_id, commit).items())]


class _Reversed:
    """Wraps a string so that sorting ascending orders it descending."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: "_Reversed") -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value


def _like(value: str | None, pattern: str | None) -> bool:
    if not pattern:
        return True
    return value is not None and fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _matches(summary: LearnerSummary, query: ListQuery) -> bool:
    if query.search:
        words = query.search.lower().split()
        text = " ".join(filter(None, (summary.repo_id, summary.corpus, summary.dataset_id, summary.base_model,
                                      summary.kind))).lower()
        if not all(word in text for word in words):
            return False
    return ((not query.corpus or _like(summary.corpus, query.corpus) or _like(summary.dataset_id, query.corpus))
            and _like(summary.base_model, query.base_model) and _like(summary.kind, query.kind)
            and _like(summary.repo_id.split("/")[0], query.org))
