"""Writes through the Hub API, into the same bare repositories the registry's local store publishes to.

A repository is created complete in `<store>/.tmp/` and renamed into place; a commit writes its blobs
and trees first (unreachable until the end), then moves the branch with one compare-and-swap
`git update-ref`; a tag is created with "must not exist". So a commit is applied entirely or not at
all, and concurrent writers (this server, `learnerhub publish --store`) never lose each other's work.
Each ref move is announced to the registry's listing index like a local publish is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from registry.git import ZERO_SHA, GitCommandError, git, init_bare, read_refs
from registry.index import LearnerIndex
from registry.local_store import write_tree_entries

from .errors import HubError, revision_not_found, unprocessable
from .git_reader import RepositoryReader

MAX_COMMIT_ATTEMPTS = 20


@dataclass
class CommitRequest:
    """What a Hub commit asks for: files to add (path -> bytes), paths and folders to delete."""

    summary: str
    description: str = ""
    parent_commit: str | None = None
    additions: dict[str, bytes] = field(default_factory=dict)
    deleted_files: list[str] = field(default_factory=list)
    deleted_folders: list[str] = field(default_factory=list)


class RepositoryWriter:
    """Creates repositories, commits and tags in the store at `root`."""

    def __init__(self, root: Path, reader: RepositoryReader, index: LearnerIndex) -> None:
        self.root = root
        self.reader = reader
        self.index = index

    def create_repository(self, repo_id: str) -> bool:
        """A new empty bare repository; False when it exists already."""
        target = self.reader.models / repo_id
        if target.exists():
            return False
        scratch = self.root / ".tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="serve-create-", dir=scratch))
        try:
            init_bare(work / "repo")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(work / "repo", target)
            except OSError:
                if not (target / "HEAD").exists():
                    raise
                return False
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.index.mark_changed()
        return True

    def commit(self, repo_id: str, branch: str, request: CommitRequest) -> str:
        """Apply the request on top of `branch` (created if it is `main` of an empty repository)."""
        repository = self.reader.path(repo_id)
        ref = f"refs/heads/{branch}"
        blobs = self._write_blobs(repository, request.additions)
        marker = self.index.begin_change(repo_id)
        try:
            for _ in range(MAX_COMMIT_ATTEMPTS):
                current = read_refs(repository, "refs/heads/").get(ref)
                if current is None and branch != "main":
                    raise revision_not_found(repo_id, branch)
                if request.parent_commit is not None and request.parent_commit != (current or ZERO_SHA):
                    raise HubError(412, f"A commit has happened on {branch} since {request.parent_commit[:12]} "
                                        f"(it is now at {(current or ZERO_SHA)[:12]}): refresh and try again.",
                                   code="PreconditionFailed")
                entries = {path: (e.mode, e.sha) for path, e in
                           (self.reader.tree(repo_id, current).items() if current else ())}
                _apply(entries, request, blobs)
                tree = write_tree_entries(repository, entries)
                message = request.summary + (f"\n\n{request.description}" if request.description else "")
                commit = git(repository, "commit-tree", tree, *(["-p", current] if current else []),
                             "-F", "-", input=message.encode()).decode().strip()  # stdin: no argv size limit
                try:
                    git(repository, "update-ref", "--stdin",
                        input=f"update {ref} {commit} {current or ZERO_SHA}\n".encode())
                    return commit
                except GitCommandError:
                    continue  # the branch moved meanwhile: rebuild on its new head
            raise HubError(409, f"{branch} of {repo_id} kept moving; the commit was not applied. Retry.",
                           code="Conflict")
        finally:
            self.index.end_change(marker)

    def create_tag(self, repo_id: str, tag: str, commit: str) -> None:
        """A lightweight tag (what `learnerhub publish` makes); 409 if the tag exists (tags are immutable)."""
        repository = self.reader.path(repo_id)
        conflict = HubError(409, f"Tag {tag} already exists in {repo_id}; tags are immutable.", code="Conflict")
        if f"refs/tags/{tag}" in read_refs(repository, "refs/tags/"):
            raise conflict
        marker = self.index.begin_change(repo_id)
        try:
            git(repository, "update-ref", "--stdin", input=f"create refs/tags/{tag} {commit}\n".encode())
        except GitCommandError:
            raise conflict from None
        finally:
            self.index.end_change(marker)

    def create_branch(self, repo_id: str, branch: str, commit: str) -> None:
        """A new branch at `commit`; 409 if it exists (what the Hub answers)."""
        self._update_ref(repo_id, f"create refs/heads/{branch} {commit}",
                         HubError(409, f"Branch {branch} already exists in {repo_id}.", code="Conflict"))

    def delete_branch(self, repo_id: str, branch: str) -> None:
        """Remove a branch other than main; 404 if there is none."""
        if branch == "main":
            raise HubError(403, "The main branch cannot be deleted.", code="Forbidden")
        sha = read_refs(self.reader.path(repo_id), "refs/heads/").get(f"refs/heads/{branch}")
        if sha is None:
            raise revision_not_found(repo_id, branch)
        self._update_ref(repo_id, f"delete refs/heads/{branch} {sha}",
                         HubError(409, f"Branch {branch} of {repo_id} moved while being deleted.", code="Conflict"))

    def delete_tag(self, repo_id: str, tag: str, sha: str) -> None:
        """Remove a tag that still points at `sha` (the caller refuses version tags)."""
        self._update_ref(repo_id, f"delete refs/tags/{tag} {sha}",
                         HubError(409, f"Tag {tag} changed while it was being deleted; retry.", code="Conflict"))

    def _update_ref(self, repo_id: str, instruction: str, conflict: HubError) -> None:
        marker = self.index.begin_change(repo_id)
        try:
            git(self.reader.path(repo_id), "update-ref", "--stdin", input=f"{instruction}\n".encode())
        except GitCommandError:
            raise conflict from None
        finally:
            self.index.end_change(marker)

    def _write_blobs(self, repository: Path, additions: dict[str, bytes]) -> dict[str, str]:
        """path -> blob sha, all written by one `git hash-object` (objects stay unreachable until the ref moves)."""
        if not additions:
            return {}
        scratch = self.root / ".tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="serve-commit-", dir=scratch) as work:
            files = []
            for number, content in enumerate(additions.values()):
                file = Path(work, str(number))
                file.write_bytes(content)
                files.append(file)
            shas = git(repository, "hash-object", "-w", "--no-filters", "--stdin-paths",
                       input="".join(f"{f}\n" for f in files).encode()).decode().split()
        return dict(zip(additions, shas))


def _apply(entries: dict[str, tuple[str, str]], request: CommitRequest, blobs: dict[str, str]) -> None:
    for path in request.deleted_files:
        if entries.pop(path, None) is None:
            raise HubError(404, f"Cannot delete {path}: a file with this name doesn't exist.", code="EntryNotFound")
    for folder in request.deleted_folders:
        prefix = folder.rstrip("/") + "/"
        doomed = [path for path in entries if path.startswith(prefix)]
        if not doomed:
            raise HubError(404, f"Cannot delete folder {folder}: it doesn't exist.", code="EntryNotFound")
        for path in doomed:
            del entries[path]
    for path, sha in blobs.items():
        if any(other.startswith(path + "/") for other in entries) or any(
                parent in entries for parent in _parents(path)):
            raise unprocessable(f"Cannot add {path}: a file and a folder would have the same name.")
        entries[path] = ("100644", sha)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
