"""Reads of the store's bare repositories by repository id: refs, revisions, trees, blobs, history.

What a Hub-compatible front end (the server) needs, in registry terms: failures are registry errors
(`RepositoryNotFoundError`, `RevisionNotFoundError`) carrying the repository and revision.

Commits, trees and blobs are immutable, so everything keyed by a sha is cached in memory (trees by
count, blobs by total size); only refs are read on every request, straight from the ref files
(`registry.local.git.read_refs`, no subprocess). A warm download is then a few file reads and a dict lookup.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from typing import Any

from ..constants import MAIN_BRANCH
from ..errors import RepositoryNotFoundError, RevisionNotFoundError
from .git import GitCommandError, git, read_refs
from .layout import StoreLayout

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
#: A short commit id, as `git log --oneline` and the Hub's pages print them (7 hex digits or more).
SHORT_SHA = re.compile(r"^[0-9a-fA-F]{7,39}$")
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
    """Read access to the store's repositories, by repository id (`org/name`, validated by the caller)."""

    def __init__(self, layout: StoreLayout) -> None:
        self.layout = layout
        self._commits: dict[tuple[str, str], str] = {}  # (repo, ref target or sha) -> commit, verified
        self._trees: dict[tuple[str, str], dict[str, TreeEntry]] = {}
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._blob_bytes = 0
        self._lock = threading.Lock()

    def path(self, repo_id: str) -> Path:
        """The repository's folder; RepositoryNotFoundError when there is none."""
        path = self.layout.repository(repo_id)
        if not (path / "HEAD").is_file():
            raise RepositoryNotFoundError(repo_id)
        return path

    def exists(self, repo_id: str) -> bool:
        return self.layout.exists(repo_id)

    def repository_ids(self, org: str | None = None) -> list[str]:
        return self.layout.repository_ids(org)

    def is_private(self, repo_id: str) -> bool:
        """Whether the repository carries the private marker (see `registry.local.layout`)."""
        return self.layout.private_marker(repo_id).is_file()

    def private_repositories(self) -> set[str]:
        return self.layout.private_repositories()

    def refs(self, repo_id: str, prefix: str = "refs/") -> dict[str, str]:
        """Full ref name -> sha (tags may point to annotated tag objects; see `resolve`)."""
        return read_refs(self.path(repo_id), prefix)

    def branch_head(self, repo_id: str, branch: str = MAIN_BRANCH) -> str | None:
        """The commit a branch points to, None when it has none yet (an empty repository's main)."""
        return self.refs(repo_id, "refs/heads/").get(f"refs/heads/{branch}")

    def tag_target(self, repo_id: str, tag: str) -> str | None:
        """What a tag points to (a commit, or an annotated tag object), None when there is no such tag."""
        return self.refs(repo_id, "refs/tags/").get(f"refs/tags/{tag}")

    def ref_target(self, repo_id: str, revision: str) -> str | None:
        """The sha a branch or tag points to, from the ref files alone (no git process)."""
        return _ref_target(self.path(repo_id), revision)

    def resolve(self, repo_id: str, revision: str, *, cached_only: bool = False) -> str | None:
        """A branch, tag, commit sha or unambiguous short sha (7+ hex digits) -> the commit sha;
        RevisionNotFoundError if it names nothing, or a short sha starts several commits.

        With `cached_only`, None instead of running git (the caller then retries off the event loop).
        """
        if not SAFE_REVISION.match(revision):
            raise RevisionNotFoundError(repo_id, revision)
        target = _ref_target(self.path(repo_id), revision)
        if target is None and not COMMIT_SHA.match(revision):
            if SHORT_SHA.match(revision):   # never cached: a later commit can make it ambiguous
                return None if cached_only else self._expand_short_sha(repo_id, revision)
            raise RevisionNotFoundError(repo_id, revision)
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
                raise RevisionNotFoundError(repo_id, revision)
            commit = revision
        if len(self._commits) > MAX_CACHED_TREES * 8:
            self._commits.clear()
        self._commits[key] = commit
        return commit

    def _expand_short_sha(self, repo_id: str, prefix: str) -> str:
        """The one commit whose sha starts with `prefix` (objects of other types do not count)."""
        path = self.path(repo_id)
        names = git(path, "rev-parse", f"--disambiguate={prefix.lower()}").split()
        kinds = git(path, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                    input=b"\n".join(names) + b"\n") if names else b""
        commits = [line.split()[0].decode() for line in kinds.splitlines() if line.endswith(b" commit")]
        if len(commits) > 1:
            raise RevisionNotFoundError(repo_id, prefix, reason=f"it is ambiguous, {len(commits)} commits start with "
                                                                "it; give more digits of the commit sha")
        if not commits:
            raise RevisionNotFoundError(repo_id, prefix)
        return commits[0]

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

    def created_date(self, repo_id: str, commit: str) -> str:
        """When the history of `commit` began: its first (root) commit's date (what the Hub calls createdAt)."""
        return _created_date(str(self.path(repo_id)), commit)

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

    # History -------------------------------------------------------------------------------------
    def history(self, repo_id: str, commit: str, *, skip: int, count: int) -> list[dict[str, Any]]:
        """`count` commits of the history of `commit` (git log order), after `skip`: id, title, message,
        authors and date in the Hub's shape."""
        out = git(self.path(repo_id), "log", "-z", f"--skip={skip}", f"--max-count={count}",
                  "--format=%H%x1f%an%x1f%ct%x1f%B", commit).decode("utf-8", errors="replace")
        commits = []
        for record in filter(None, out.split("\0")):
            sha, author, seconds, body = record.split("\x1f", 3)
            title, _, message = body.strip().partition("\n")
            commits.append({"id": sha, "title": title, "message": message.strip(), "authors": [{"user": author}],
                            "date": hub_date(seconds)})
        return commits

    def last_commit(self, repo_id: str, commit: str, path: str) -> dict[str, str] | None:
        """The newest commit at or before `commit` that touched `path`: {id, title, date} (the Hub's lastCommit)."""
        return _last_commit(str(self.path(repo_id)), commit, path)

    def modified(self, repo_id: str) -> str:
        """When the repository last changed: main's commit date, else (no commit yet) its folder's mtime."""
        main = self.branch_head(repo_id)
        return self.commit_date(repo_id, main) if main else hub_date(self.path(repo_id).stat().st_mtime)

    def storage(self, repo_id: str) -> int:
        """Bytes the repository takes on disk."""
        return sum(f.stat().st_size for f in self.path(repo_id).rglob("*") if f.is_file())


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


def hub_date(seconds: str | float) -> str:
    """Seconds since the epoch in the Hub's format, `2024-05-01T12:00:00.000Z`."""
    return datetime.fromtimestamp(int(float(seconds)), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@lru_cache(maxsize=65536)
def _commit_date(repository: str, commit: str) -> str:
    return hub_date(git(Path(repository), "show", "-s", "--format=%ct", commit).decode().strip())


@lru_cache(maxsize=65536)
def _created_date(repository: str, commit: str) -> str:
    roots = git(Path(repository), "log", "--max-parents=0", "--format=%ct", commit).split()
    return hub_date(min(int(seconds) for seconds in roots))


@lru_cache(maxsize=65536)
def _last_commit(repository: str, commit: str, path: str) -> dict[str, str] | None:
    out = git(Path(repository), "log", "-1", "--format=%H%x1f%s%x1f%ct", commit, "--", path).decode().strip()
    if not out:
        return None
    sha, title, seconds = out.split("\x1f")
    return {"id": sha, "title": title, "date": hub_date(seconds)}
