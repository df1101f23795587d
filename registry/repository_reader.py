"""Reads of the store's bare repositories for the server: revisions, trees, blobs, commit dates.

Commits, trees and blobs are immutable, so everything keyed by a sha is cached in memory (trees by
count, blobs by total size); only refs are read on every request, straight from the ref files
(`registry.git.read_refs`, no subprocess). A warm download is then a few file reads and a dict lookup.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from registry.git import GitCommandError, git, read_refs

from .errors import repo_not_found, revision_not_found

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
SAFE_REVISION = re.compile(r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
BLOB_CACHE_BYTES = 256 << 20
LARGEST_CACHED_BLOB = 32 << 20
MAX_CACHED_TREES = 8192


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit: git mode, blob sha and size in bytes."""

    mode: str
    sha: str
    size: int


class RepositoryReader:
    """Read access to `<store>/models/<org>/<name>` repositories, by repository id."""

    def __init__(self, models: Path) -> None:
        self.models = models
        self._commits: dict[tuple[str, str], str] = {}  # (repo, ref target or sha) -> commit, verified
        self._trees: dict[tuple[str, str], dict[str, TreeEntry]] = {}
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._blob_bytes = 0
        self._lock = threading.Lock()

    def path(self, repo_id: str) -> Path:
        path = self.models / repo_id
        if not (path / "HEAD").is_file():
            raise repo_not_found(repo_id)
        return path

    def exists(self, repo_id: str) -> bool:
        return (self.models / repo_id / "HEAD").is_file()

    def refs(self, repo_id: str) -> dict[str, str]:
        """Full ref name -> sha (tags may point to annotated tag objects; see `resolve`)."""
        return read_refs(self.path(repo_id))

    def ref_target(self, repo_id: str, revision: str) -> str | None:
        """The sha a branch or tag points to, from the ref files alone (no git process)."""
        return _ref_target(self.path(repo_id), revision)

    def resolve(self, repo_id: str, revision: str, *, cached_only: bool = False) -> str | None:
        """A branch, tag or commit sha -> the commit sha; RevisionNotFound if it names nothing.

        With `cached_only`, None instead of running git (the caller then retries off the event loop).
        """
        if not SAFE_REVISION.match(revision):
            raise revision_not_found(repo_id, revision)
        target = _ref_target(self.path(repo_id), revision)
        if target is None and not COMMIT_SHA.match(revision):
            raise revision_not_found(repo_id, revision)
        key = (repo_id, target or revision)
        commit = self._commits.get(key)
        if commit is not None or cached_only:
            return commit
        if target is not None:
            commit = git(self.path(repo_id), "rev-parse", f"{target}^{{commit}}").decode().strip()
        else:
            try:
                kind = git(self.path(repo_id), "cat-file", "-t", revision).strip()
            except GitCommandError:
                kind = b""
            if kind != b"commit":
                raise revision_not_found(repo_id, revision)
            commit = revision
        if len(self._commits) > MAX_CACHED_TREES * 8:
            self._commits.clear()
        self._commits[key] = commit
        return commit

    def tree(self, repo_id: str, commit: str) -> dict[str, TreeEntry]:
        """Every file of the commit (recursive), path -> entry."""
        key = (repo_id, commit)
        tree = self._trees.get(key)
        if tree is None:
            tree = _read_tree(self.path(repo_id), commit)
            if len(self._trees) > MAX_CACHED_TREES:
                self._trees.clear()
            self._trees[key] = tree
        return tree

    def cached_tree(self, repo_id: str, commit: str) -> dict[str, TreeEntry] | None:
        return self._trees.get((repo_id, commit))

    def cached_blob(self, entry: TreeEntry) -> bytes | None:
        return self._blobs.get(entry.sha)

    def commit_date(self, repo_id: str, commit: str) -> str:
        """The committer date in the Hub's format, `2024-05-01T12:00:00.000Z` (what it calls lastModified)."""
        return _commit_date(str(self.path(repo_id)), commit)

    def blob(self, repo_id: str, entry: TreeEntry) -> bytes:
        with self._lock:
            cached = self._blobs.get(entry.sha)
            if cached is not None:
                self._blobs.move_to_end(entry.sha)
                return cached
        content = git(self.path(repo_id), "cat-file", "blob", entry.sha)
        if len(content) <= LARGEST_CACHED_BLOB:
            with self._lock:
                if entry.sha not in self._blobs:
                    self._blobs[entry.sha] = content
                    self._blob_bytes += len(content)
                while self._blob_bytes > BLOB_CACHE_BYTES:
                    _, evicted = self._blobs.popitem(last=False)
                    self._blob_bytes -= len(evicted)
        return content

    def read_text(self, repo_id: str, commit: str, path: str) -> str | None:
        """A file of the commit as text, or None when the commit has no such file."""
        entry = self.tree(repo_id, commit).get(path)
        return None if entry is None else self.blob(repo_id, entry).decode("utf-8", errors="replace")


def _ref_target(repository: Path, revision: str) -> str | None:
    """What branch or tag `revision` points to: its loose ref file when there is one (one read), else packed-refs."""
    for ref in (f"refs/heads/{revision}", f"refs/tags/{revision}"):
        try:
            sha = (repository / ref).read_text().strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
        if COMMIT_SHA.match(sha):
            return sha
    refs = read_refs(repository)
    return refs.get(f"refs/heads/{revision}") or refs.get(f"refs/tags/{revision}")


def _read_tree(repository: Path, commit: str) -> dict[str, TreeEntry]:
    listing = git(repository, "ls-tree", "-r", "-l", "-z", commit)
    entries = {}
    for record in listing.split(b"\0"):
        if not record:
            continue
        info, _, name = record.partition(b"\t")
        mode, kind, sha, size = info.decode().split()
        if kind == "blob":
            entries[name.decode()] = TreeEntry(mode, sha, int(size))
    return entries


@lru_cache(maxsize=65536)
def _commit_date(repository: str, commit: str) -> str:
    seconds = int(git(Path(repository), "show", "-s", "--format=%ct", commit).decode().strip())
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
