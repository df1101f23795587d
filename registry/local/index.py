"""The local store's listing index: one sqlite row per repository, rebuilt from the repositories.

`list` over 10,000 repositories must not open 10,000 git repositories, so it reads this index. The
index is only a cache of the refs and learner.json of each repository: it is rebuilt when missing,
and refreshed when stale. Stale means one of:

- the store's generation stamp changed (every publish writes a new one once its refs are moved);
- a repository was added or removed (the mtime of `models/` or of an organisation folder changed);
- a publish is pending (it leaves `.learnerhub/pending/<org>--<name>--<id>` while it moves refs, so a
  publisher killed before stamping the generation is still noticed);
- `refresh=True` (`learnerhub list --refresh`): every repository's ref mtimes are compared. Use it,
  or call `LearnerIndex.mark_changed`, after moving refs with tools other than learnerhub.

Only repositories whose refs changed are read again (one `git cat-file` each).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from packaging.version import Version

from cards.format.constants import LEARNER_FILE
from cards.format.metadata import checked_learner
from ..constants import MAIN_BRANCH, TAG_PREFIX
from ..errors import LifecycleError, StoreError
from ..store import LearnerSummary, matches_pattern
from ..versions import latest_version, version_of_tag
from .git import git, read_refs, refs_signature
from .lifecycle_log import read_lifecycle
from .layout import MODELS_DIR, STATE_DIR

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS repos (
    repo_id TEXT PRIMARY KEY, kind TEXT, base_model TEXT, corpus TEXT, dataset_id TEXT, latest TEXT,
    versions TEXT, org TEXT, base_model_path TEXT, refs_signature TEXT);
"""
_COLUMNS = "repo_id, kind, base_model, corpus, dataset_id, latest, versions"
STALE_PENDING_SECONDS = 3600
T = TypeVar("T")


class LearnerIndex:
    """The index of the store at `root` (its file: `root/.learnerhub/index.sqlite`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.models = root / MODELS_DIR
        self.state = root / STATE_DIR
        self.path = self.state / "index.sqlite"
        self.generation_file = self.state / "generation"
        self.pending = self.state / "pending"

    # Writers (publish) --------------------------------------------------------------------------
    def begin_change(self, repo_id: str) -> Path:
        """Mark a publish to `repo_id` as pending; remove the marker with `end_change` once refs moved."""
        self.pending.mkdir(parents=True, exist_ok=True)
        marker = self.pending / f"{repo_id.replace('/', '--')}--{uuid.uuid4().hex}"
        marker.touch()
        return marker

    def end_change(self, marker: Path) -> None:
        self.mark_changed()
        marker.unlink(missing_ok=True)

    def mark_changed(self) -> None:
        """Stamp a new generation: every reader rebuilds what changed before answering."""
        self.state.mkdir(parents=True, exist_ok=True)
        temporary = self.state / f".generation-{uuid.uuid4().hex}"
        temporary.write_text(uuid.uuid4().hex)
        os.replace(temporary, self.generation_file)

    # Readers ------------------------------------------------------------------------------------
    def query(self, *, corpus: str | None = None, base_model: str | None = None, kind: str | None = None,
              org: str | None = None, refresh: bool = False) -> list[LearnerSummary]:
        """Rows matching every filter (case-insensitive; `*` and `?` are wildcards)."""
        if not self.models.is_dir():
            return []  # an empty (or not yet created) store: answer without creating anything
        return self._rebuilt_if_damaged(self._query, corpus=corpus, base_model=base_model, kind=kind, org=org,
                                        refresh=refresh)

    def _query(self, *, corpus: str | None, base_model: str | None, kind: str | None, org: str | None,
               refresh: bool) -> list[LearnerSummary]:
        self.ensure_fresh(full=refresh)
        clauses, values = [], []
        for value, columns in ((corpus, ("corpus", "dataset_id")), (base_model, ("base_model", "base_model_path")),
                               (kind, ("kind",)), (org, ("org",))):
            if value:
                clauses.append("(" + " OR ".join(f"matches_pattern({c}, ?)" for c in columns) + ")")
                values += [value] * len(columns)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with closing(self._connect()) as connection:
            connection.create_function("matches_pattern", 2, matches_pattern, deterministic=True)
            rows = connection.execute(f"SELECT {_COLUMNS} FROM repos{where} ORDER BY repo_id", values).fetchall()
        return list(map(LearnerSummary._make, rows))

    def corpus_names(self) -> list[str]:
        if not self.models.is_dir():
            return []
        return self._rebuilt_if_damaged(self._corpus_names)

    def _corpus_names(self) -> list[str]:
        self.ensure_fresh()
        with closing(self._connect()) as connection:
            rows = connection.execute("SELECT corpus, dataset_id FROM repos").fetchall()
        return sorted({name for row in rows for name in row if name})

    def _rebuilt_if_damaged(self, read: Callable[..., T], **arguments) -> T:
        """`read()`; if the index file is damaged (not a database, malformed), set it aside and rebuild it once.

        The index is only a cache of the repositories, so a damaged one costs a rebuild, never the listing.
        """
        try:
            return read(**arguments)
        except sqlite3.OperationalError as error:   # locked, read-only, disk full: nothing to repair here
            raise StoreError(f"Cannot use the listing index {self.path}: {error}.") from None
        except sqlite3.DatabaseError:
            damaged = self.path.with_name(f"{self.path.name}.damaged-{uuid.uuid4().hex[:8]}")
            os.replace(self.path, damaged)
            print(f"learnerhub: the listing index {self.path} was damaged; moved it to {damaged.name} and rebuilt "
                  "it from the repositories.", file=sys.stderr)
        try:
            return read(**arguments)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"Cannot rebuild the listing index {self.path}: {error}.") from None

    # Freshness ----------------------------------------------------------------------------------
    def signature(self) -> str:
        """Changes whenever `query` could answer differently (without opening sqlite): for readers' caches."""
        try:
            pending = ",".join(sorted(os.listdir(self.pending)))
        except FileNotFoundError:
            pending = ""
        return f"{self._generation()}|{self._folders_signature()}|{pending}"

    def ensure_fresh(self, *, full: bool = False) -> None:
        if not self.path.exists():
            self.state.mkdir(parents=True, exist_ok=True)
            return self._refresh(self._repositories(), stored={})
        with closing(self._connect()) as connection:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        pending = self._pending_repositories()
        stale = full or meta.get("generation") != self._generation() or meta.get("folders") != self._folders_signature()
        if not stale and not pending:
            return None
        with closing(self._connect()) as connection:
            stored = dict(connection.execute("SELECT repo_id, refs_signature FROM repos").fetchall())
        if stale:
            return self._refresh(self._repositories(), stored=stored)
        changed = {repo_id: path for repo_id, path in pending.items()
                   if stored.get(repo_id) != refs_signature(path)}
        if changed:
            self._refresh(changed, stored=stored, complete=False)

    def _refresh(self, repositories: dict[str, Path], *, stored: dict[str, str], complete: bool = True) -> None:
        """Re-read the repositories whose refs changed; with `complete`, drop the ones that are gone."""
        generation, folders = self._generation(), self._folders_signature()  # read before scanning
        signatures = {repo_id: refs_signature(path) for repo_id, path in repositories.items()}
        stale = [repo_id for repo_id, signature in signatures.items() if stored.get(repo_id) != signature]
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            rows = [row for row in pool.map(lambda r: read_repository(r, repositories[r], signatures[r]), stale)
                    if row is not None]
        with closing(self._connect()) as connection, connection:
            connection.executemany("INSERT OR REPLACE INTO repos VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            if complete:
                gone = set(stored) - set(repositories)
                connection.executemany("DELETE FROM repos WHERE repo_id = ?", [(r,) for r in gone])
                connection.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                       [("generation", generation), ("folders", folders)])
        if complete:
            self._forget_abandoned_pending()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.executescript(SCHEMA)
        return connection

    def _generation(self) -> str:
        try:
            return self.generation_file.read_text()
        except FileNotFoundError:
            return ""

    def _folders_signature(self) -> str:
        """mtimes of models/ and of each organisation folder: they change when a repository appears."""
        try:
            organisations = [entry for entry in os.scandir(self.models) if entry.is_dir() and entry.name[0] != "."]
            return ",".join([str(os.stat(self.models).st_mtime_ns)]
                            + [f"{entry.name}={entry.stat().st_mtime_ns}" for entry in organisations])
        except FileNotFoundError:
            return ""

    def _repositories(self) -> dict[str, Path]:
        found = {}
        if self.models.is_dir():
            for organisation in os.scandir(self.models):
                if organisation.is_dir() and organisation.name[0] != ".":
                    for repository in os.scandir(organisation.path):
                        if repository.is_dir() and repository.name[0] != ".":
                            found[f"{organisation.name}/{repository.name}"] = Path(repository.path)
        return found

    def _pending_repositories(self) -> dict[str, Path]:
        try:
            names = os.listdir(self.pending)
        except FileNotFoundError:
            return {}
        found = {}
        for name in names:
            org, _, rest = name.partition("--")
            repo = rest.rsplit("--", 1)[0]
            found[f"{org}/{repo}"] = self.models / org / repo
        return found

    def _forget_abandoned_pending(self) -> None:
        """Markers of publishers killed long ago: their refs have been read by this full refresh."""
        now = time.time()
        for marker in self.pending.glob("*") if self.pending.is_dir() else ():
            try:
                if now - marker.stat().st_mtime > STALE_PENDING_SECONDS:
                    marker.unlink()
            except FileNotFoundError:
                pass


def read_repository(repo_id: str, path: Path, signature: str) -> tuple | None:
    """The index row of one repository, from its refs and main's learner.json (None if it has no main)."""
    refs = read_refs(path)
    main = refs.get(f"refs/heads/{MAIN_BRANCH}")
    if main is None:
        return None
    try:
        lifecycle = read_lifecycle(path, refs)
    except LifecycleError:   # listed without a latest: pulls name the malformed log
        lifecycle = None
    try:
        learner = checked_learner(json.loads(git(path, "cat-file", "blob", f"{main}:{LEARNER_FILE}")),
                                  source=f"{repo_id}@main {LEARNER_FILE}")
    except (ValueError, OSError, RecursionError):   # LearnerFormatError is a ValueError: skip this repository
        return None
    tagged = {str(v): sha for v, sha in ((version_of_tag(r.removeprefix("refs/tags/")), sha) for r, sha in refs.items()
                                         if r.startswith(f"refs/tags/{TAG_PREFIX}")) if v is not None}
    live = lifecycle.live(tagged) if lifecycle else tagged
    versions = sorted(map(Version, live))
    base, corpus = learner.base_model, learner.corpus
    latest = latest_version(live, lifecycle) if lifecycle else None
    return (repo_id, learner.kind, base.model_id, corpus.name, corpus.dataset_id,
            str(latest) if latest else None, " ".join(map(str, versions)), repo_id.split("/")[0],
            base.name_or_path, signature)

