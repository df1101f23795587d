"""What the browse API and the web page show: learners with their metrics, filtered, sorted and paged.

The registry's listing index answers "which repositories, which versions"; the metrics and dates live
in each version's learner.json (`server.browse.version_facts`, read once per version since published versions
are immutable). The listing itself is cached until the index's signature changes (a publish, through the
registry or through this server's Hub API), so a warm list request opens neither sqlite nor git.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from cards.format.effect_wording import VERDICTS
from registry.constants import MANIFEST_FILE
from registry.local.store import LocalStore
from registry.store import LearnerSummary, summary_matches
from registry.works_with import works_with

from ..core.visibility import may_see
from .metrics import RATIO_METRIC, lower_is_better
from .version_facts import FACTS_CACHE_FILE, VersionFacts, VersionFactsCache

__all__ = ["FACTS_CACHE_FILE", "Catalog", "ListQuery", "VersionFacts"]
MAX_CACHED_PAGES = 1024


@dataclass(frozen=True)
class ListQuery:
    search: str | None = None
    corpus: str | None = None
    base_model: str | None = None
    kind: str | None = None
    org: str | None = None
    works_with: str | None = None   # a base model: learners built on it, or for any model (measured first)
    sort: str = "effect"   # the headline evaluation's ratio, narrower CI first; unevaluated learners last
    order: str | None = None
    page: int = 1
    per_page: int = 20
    show_private: bool | frozenset[str] = False   # which private repositories: server.core.visibility.private_access


class Catalog:
    """Learners of one local store, as the server presents them."""

    def __init__(self, store: LocalStore, *, facts_cache: Path | None = None) -> None:
        self.store = store
        self._snapshot: tuple[str, list[LearnerSummary]] | None = None
        self._private: tuple[str, set[str]] | None = None
        self._facts = VersionFactsCache(store.reader, facts_cache)
        self._pages: dict[ListQuery, tuple[str, bytes]] = {}
        self._lock = threading.Lock()

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

    def visible(self, show_private: bool | frozenset[str]) -> list[LearnerSummary]:
        """The learners a request may see: the public ones, and the private ones its token covers."""
        signature, learners = self.snapshot()
        if show_private is True:
            return learners
        if self._private is None or self._private[0] != signature:
            self._private = (signature, self.store.reader.private_repositories())
        return [s for s in learners if s.repo_id not in self._private[1] or may_see(show_private, s.repo_id)]

    def forget(self, repo_id: str) -> None:
        """Drop what is known of a repository that was deleted, moved or re-created (its versions may differ)."""
        self._facts.forget(repo_id)
        with self._lock:
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
        return None if version is None else self._facts.facts(repo_id, version)

    def save_facts(self) -> None:
        """Keep the facts read so far across restarts (see `server.browse.version_facts`)."""
        self._facts.save()

    def versions(self, repo_id: str) -> list[VersionFacts]:
        """Every published version, newest first."""
        published = sorted(self.store.versions(repo_id), key=Version, reverse=True)
        return [f for f in (self.facts(repo_id, v) for v in published) if f is not None]

    def query(self, query: ListQuery) -> dict[str, Any]:
        """One page of the learners matching the query, with the facts of their latest versions."""
        matching = [s for s in self.visible(query.show_private) if _matches(s, query)]
        fit = {}
        if query.works_with:
            fit = {s.repo_id: self._works_with(s, query.works_with) for s in matching}
            matching = [s for s in matching if fit[s.repo_id]]
        reverse = query.order == "desc"
        if query.sort == "name":
            matching.sort(key=lambda s: s.repo_id, reverse=reverse)
        else:
            metric = {"date": None, "effect": RATIO_METRIC}.get(query.sort, query.sort.removeprefix("metric:"))
            descending = (query.order or ("asc" if metric and lower_is_better(metric) else "desc")) == "desc"
            matching.sort(key=lambda s: self._sort_value(s, metric, descending))
        start = (query.page - 1) * query.per_page
        page = matching[start:start + query.per_page]
        items = [{**self.describe(s), **({"works_with": fit[s.repo_id]} if fit else {})} for s in page]
        self.save_facts()
        return {"total": len(matching), "page": query.page, "per_page": query.per_page,
                "pages": max(1, math.ceil(len(matching) / query.per_page)), "items": items}

    def _works_with(self, summary: LearnerSummary, model: str) -> str | None:
        facts = self.facts(summary.repo_id, summary.latest)
        return works_with(summary.base_model, facts.learner if facts else None, model)

    def _sort_value(self, summary: LearnerSummary, metric: str | None, descending: bool) -> tuple:
        facts = self.facts(summary.repo_id, summary.latest)
        if metric is None:
            value: Any = facts.created_at if facts else ""
            return (not value, _Reversed(value) if descending else value, summary.repo_id)
        if metric == RATIO_METRIC and not descending:
            return (*effect_rank(facts), summary.repo_id)
        number = facts.metrics.get(metric) if facts else None
        width = facts.metrics.get("perplexity_ratio_ci_width", math.inf) if facts else math.inf
        return (number is None, -(number or 0.0) if descending else (number or 0.0), width, summary.repo_id)

    def describe(self, summary: LearnerSummary) -> dict[str, Any]:
        facts = self.facts(summary.repo_id, summary.latest)
        return {**summary.to_dict(), "org": summary.repo_id.split("/")[0],
                "created_at": facts.created_at if facts else None,
                "commit": facts.commit if facts else None, "metrics": facts.metrics if facts else {},
                "headline": _headline_dict(facts)}

    def counts(self, field: str, *, show_private: bool | frozenset[str] = False) -> list[dict[str, Any]]:
        """How many learners each corpus (or base model) has: what the store covers."""
        found: dict[str, int] = {}
        for summary in self.visible(show_private):
            value = getattr(summary, field)
            if value:
                found[value] = found.get(value, 0) + 1
        return [{"name": name, "learners": count} for name, count in sorted(found.items())]

    # Leaderboards -------------------------------------------------------------------------------
    def leaderboard(self, corpus: str, base_model: str, *, metric: str | None = None,
                    show_private: bool | frozenset[str] = False) -> dict[str, Any]:
        """Every version of every learner for (corpus, base model). `rows`: the evaluated versions, ranked by
        their headline effect (significantly better first, yanked ones after the rest), or by `metric` when one
        is asked for; `unevaluated`: the others, apart and unranked (newest first): a build metric says nothing
        of the effect on fine-tuning, so it never ranks them."""
        rows, unevaluated = [], []
        for summary in self.visible(show_private):
            if not summary_matches(summary, corpus=corpus, base_model=base_model):
                continue
            yanked = self._yanked(summary.repo_id)
            for facts in self.versions(summary.repo_id):
                row = {"repo_id": summary.repo_id, "kind": summary.kind, "version": facts.version,
                       "commit": facts.commit, "created_at": facts.created_at, "metrics": facts.metrics,
                       "is_latest": facts.version == summary.latest, "yanked": facts.version in yanked,
                       "yanked_reason": yanked.get(facts.version), "headline": _headline_dict(facts),
                       "_rank": effect_rank(facts)}
                (rows if row["_rank"][0] == 0 else unevaluated).append(row)
        metrics = sorted({name for row in rows + unevaluated for name in row["metrics"]})
        if metric is not None and metric != RATIO_METRIC:
            sign = 1.0 if lower_is_better(metric) else -1.0
            rows.sort(key=lambda r: (metric not in r["metrics"], sign * r["metrics"].get(metric, 0.0),
                                     r["metrics"].get("perplexity_ratio_ci_width", math.inf),
                                     r["repo_id"], r["version"]))
        else:
            metric = RATIO_METRIC
            rows.sort(key=lambda r: (r["yanked"], r["_rank"], r["repo_id"], r["version"]))
        unevaluated.sort(key=lambda r: (_Reversed(r["created_at"]), r["repo_id"], r["version"]))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        for row in rows + unevaluated:
            del row["_rank"]
        return {"corpus": corpus, "base_model": base_model, "metric": metric,
                "lower_is_better": lower_is_better(metric), "metrics": metrics, "rows": rows,
                "unevaluated": unevaluated}

    def _yanked(self, repo_id: str) -> dict[str, str]:
        """Yanked versions and why; a malformed lifecycle log marks none here (the learner's page says why)."""
        try:
            return dict(self.store.lifecycle(repo_id).yanked)
        except Exception:
            return {}

    def files(self, repo_id: str, commit: str) -> list[dict[str, Any]]:
        """The files of a version with size and sha256 (from the manifest)."""
        reader = self.store.reader
        manifest = json.loads(reader.read_text(repo_id, commit, MANIFEST_FILE) or "{}").get("files", {})
        return [{"path": path, "size": entry.size, "sha256": manifest.get(path)}
                for path, entry in sorted(reader.tree(repo_id, commit).items())]


class _Reversed:
    """Wraps a string so that sorting ascending orders it descending."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value


def effect_rank(facts: VersionFacts | None) -> tuple:
    """Sort key by measured effect: evaluated versions first (0, ...) by their headline's rank, a ratio with no
    evaluation record (older builds) as one without a CI, then the unevaluated (1,)."""
    if facts is None:
        return (1,)
    head = facts.headline
    if head is not None:
        return (0, *head.rank_key())
    ratio = facts.metrics.get(RATIO_METRIC)
    return (1,) if ratio is None else (0, VERDICTS.index("too few seeds"), ratio, math.inf, False)


def _headline_dict(facts: VersionFacts | None) -> dict[str, Any] | None:
    head = facts.headline if facts is not None else None
    return head.to_dict() if head is not None else None


def _matches(summary: LearnerSummary, query: ListQuery) -> bool:
    if query.search:
        words = query.search.lower().split()
        text = " ".join(filter(None, (summary.repo_id, summary.corpus, summary.dataset_id, summary.base_model,
                                      summary.kind))).lower()
        if not all(word in text for word in words):
            return False
    return summary_matches(summary, corpus=query.corpus, base_model=query.base_model, kind=query.kind,
                           org=query.org)
