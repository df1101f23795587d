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
BLOB_CACHE_BYTES = 256 << 20
LARGEST_CACHED_BLOB = 32 << 20


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

    def resolve(self, repo_id: str, revision: str) -> str:
        """A branch, tag or commit sha -> the commit sha; RevisionNotFound if it names nothing."""
        path = self.path(repo_id)
        refs = read_refs(path)
        for ref in (f"refs/heads/{revision}", f"refs/tags/{revision}"):
            if ref in refs:
                return _peel(str(path), refs[ref])
        if COMMIT_SHA.match(revision) and _is_commit(str(path), revision):
            return revision
        raise revision_not_found(repo_id, revision)

    def tree(self, repo_id: str, commit: str) -> dict[str, TreeEntry]:
        """Every file of the commit (recursive), path -> entry."""
        return _tree(str(self.path(repo_id)), commit)

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


@lru_cache(maxsize=65536)
def _peel(repository: str, sha: str) -> str:
    """The commit a ref points to (annotated tags point to a tag object first)."""
    if git(Path(repository), "cat-file", "-t", sha).strip() == b"commit":
        return sha
    return git(Path(repository), "rev-parse", f"{sha}^{{commit}}").decode().strip()


@lru_cache(maxsize=65536)
def _is_commit(repository: str, sha: str) -> bool:
    try:
        return git(Path(repository), "cat-file", "-t", sha).strip() == b"commit"
    except GitCommandError:
        return False


@lru_cache(maxsize=8192)
def _tree(repository: str, commit: str) -> dict[str, TreeEntry]:
    listing = git(Path(repository), "ls-tree", "-r", "-l", "-z", commit)
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
