"""Writes into the store's bare repositories by repository id: create, commit, tag, branch, move, delete.

A repository is created complete in `<store>/.tmp/` and renamed into place (`create_bare_repository`,
shared with `LocalStore.publish`); a commit writes its blobs and trees first (unreachable until the end),
then moves the branch with one compare-and-swap `git update-ref`; a tag is created with "must not
exist". So a commit is applied entirely or not at all, and concurrent writers (the server, `learnerhub
publish --store`) never lose each other's work. Each ref move is announced to the listing index like a
publish is. Refusals are registry errors with structured fields (`registry.errors`), for the caller to
answer in its own protocol.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..constants import MAIN_BRANCH
from ..errors import (EntryNotFoundError, InvalidChangeError, PreconditionFailedError, ProtectedRefError,
                     RepositoryNotFoundError, RevisionNotFoundError, StoreConflictError)
from ..version_gate import check_unambiguous, check_version_number
from ..versions import version_of_tag
from .git import ZERO_SHA, GitCommandError, git, init_bare, read_refs, write_tree_entries
from .index import LearnerIndex
from .lifecycle_log import LIFECYCLE_REF, read_lifecycle
from .repository_reader import RepositoryReader
from .layout import StoreLayout

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


def create_bare_repository(target: Path, scratch_repo: Path, fill: Callable[[Path], None] | None = None) -> bool:
    """Build a bare repository at `scratch_repo` (in .tmp/), let `fill` write into it, rename it to `target`.

    The one way a repository comes into being, so readers see it complete or not at all. False (nothing
    renamed) when `target` exists already or appeared meanwhile; the caller removes its scratch folder.
    """
    if target.exists():
        return False
    init_bare(scratch_repo)
    if fill is not None:
        fill(scratch_repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(scratch_repo, target)
    except OSError:
        if not (target / "HEAD").exists():
            raise
        return False
    return True


class RepositoryWriter:
    """Creates, changes, moves and deletes repositories of the store laid out by `layout`."""

    def __init__(self, layout: StoreLayout, reader: RepositoryReader, index: LearnerIndex) -> None:
        self.layout = layout
        self.reader = reader
        self.index = index

    def create_repository(self, repo_id: str) -> bool:
        """A new empty bare repository; False when it exists already."""
        work = self.layout.scratch_folder("serve-create-")
        try:
            created = create_bare_repository(self.layout.repository(repo_id), work / "repo")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if created:
            self.index.mark_changed()
        return created

    def commit(self, repo_id: str, branch: str, request: CommitRequest) -> str:
        """Apply the request on top of `branch` (created if it is `main` of an empty repository)."""
        repository = self.reader.path(repo_id)
        ref = f"refs/heads/{branch}"
        blobs = self._write_blobs(repository, request.additions)
        marker = self.index.begin_change(repo_id)
        try:
            for _ in range(MAX_COMMIT_ATTEMPTS):
                current = self.reader.branch_head(repo_id, branch)
                if current is None and branch != MAIN_BRANCH:
                    raise RevisionNotFoundError(repo_id, branch)
                if request.parent_commit is not None and request.parent_commit != (current or ZERO_SHA):
                    raise PreconditionFailedError(
                        f"A commit has happened on {branch} since {request.parent_commit[:12]} (it is now at "
                        f"{(current or ZERO_SHA)[:12]}): refresh and try again.", repo_id=repo_id, branch=branch,
                        expected=request.parent_commit, current=current or ZERO_SHA)
                entries = {path: (e.mode, e.sha) for path, e in
                           (self.reader.tree(repo_id, current).items() if current else ())}
                _apply(repo_id, entries, request, blobs)
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
            raise StoreConflictError(f"{branch} of {repo_id} kept moving; the commit was not applied. Retry.",
                                     repo_id=repo_id)
        finally:
            self.index.end_change(marker)

    def create_tag(self, repo_id: str, tag: str, commit: str) -> None:
        """A lightweight tag (what `learnerhub publish` makes); StoreConflictError if the tag exists (tags are
        immutable) or, for a version tag, VersionDeletedError if the lifecycle log deleted that number (numbers
        are never reused). The caller passed `registry.version_gate.check_new_tag` first.

        The log is read, and the tag created, in one transaction that verifies the log's head: a delete recorded
        in between (and its tag removed) makes the creation fail and be checked again, never succeed.
        """
        repository = self.reader.path(repo_id)
        check_unambiguous(tag, "tag", self.reader.refs(repo_id, "refs/heads/"))
        conflict = StoreConflictError(f"Tag {tag} already exists in {repo_id}; tags are immutable.", repo_id=repo_id)
        version = version_of_tag(tag)
        for _ in range(MAX_COMMIT_ATTEMPTS):
            if self.reader.tag_target(repo_id, tag) is not None:
                raise conflict
            refs = read_refs(repository, "refs/heads/")
            if version is not None:   # a number deleted since the caller passed the gate: VersionDeletedError
                check_version_number(repo_id, str(version), tags=(), lifecycle=read_lifecycle(repository, refs))
            marker = self.index.begin_change(repo_id)
            try:
                log_head = refs.get(LIFECYCLE_REF) or ZERO_SHA
                git(repository, "update-ref", "--stdin",
                    input=f"create refs/tags/{tag} {commit}\nverify {LIFECYCLE_REF} {log_head}\n".encode())
                return
            except GitCommandError:
                continue   # the tag appeared, or the log moved: look again
            finally:
                self.index.end_change(marker)
        raise conflict

    def create_branch(self, repo_id: str, branch: str, commit: str) -> None:
        """A new branch at `commit`; StoreConflictError if it exists (the Hub answers 409)."""
        check_unambiguous(branch, "branch", self.reader.refs(repo_id, "refs/tags/"))
        self._update_ref(repo_id, f"create refs/heads/{branch} {commit}",
                         StoreConflictError(f"Branch {branch} already exists in {repo_id}.", repo_id=repo_id))

    def delete_branch(self, repo_id: str, branch: str) -> None:
        """Remove a branch other than main; RevisionNotFoundError if there is none."""
        if branch == MAIN_BRANCH:
            raise ProtectedRefError("The main branch cannot be deleted.")
        sha = self.reader.branch_head(repo_id, branch)
        if sha is None:
            raise RevisionNotFoundError(repo_id, branch)
        self._update_ref(repo_id, f"delete refs/heads/{branch} {sha}",
                         StoreConflictError(f"Branch {branch} of {repo_id} moved while being deleted.",
                                            repo_id=repo_id))

    def delete_tag(self, repo_id: str, tag: str, sha: str) -> None:
        """Remove a tag that still points at `sha` (the caller refuses version tags)."""
        self._update_ref(repo_id, f"delete refs/tags/{tag} {sha}",
                         StoreConflictError(f"Tag {tag} changed while it was being deleted; retry.", repo_id=repo_id))

    # Whole repositories -----------------------------------------------------------------------------
    def delete_repository(self, repo_id: str) -> None:
        """Rename the repository out of models/ (one atomic rename: readers see it or not), then remove it."""
        source = self.reader.path(repo_id)
        grave = self.layout.scratch_folder("serve-delete-")
        try:
            os.rename(source, grave / "repo")
        except FileNotFoundError:
            raise RepositoryNotFoundError(repo_id) from None
        finally:
            self.index.mark_changed()
            shutil.rmtree(grave, ignore_errors=True)

    def move_repository(self, source_id: str, target_id: str) -> None:
        """Rename a repository; refused onto an existing one, and for one holding published versions (each
        version's manifest names its repository, so a moved version would no longer verify on pull)."""
        source = self.reader.path(source_id)
        versions = [t for t in self.reader.refs(source_id, "refs/tags/")
                    if version_of_tag(t.removeprefix("refs/tags/"))]
        if versions:
            raise StoreConflictError(f"{source_id} holds published learner versions ({len(versions)}); their manifests "
                                     f"name {source_id}, so they would no longer verify as {target_id}. Publish them "
                                     "under the new name instead.", repo_id=source_id)
        target = self.layout.repository(target_id)
        if target.exists():
            raise StoreConflictError(f"{target_id} already exists.", repo_id=target_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(source, target)
        except OSError:
            raise StoreConflictError(f"Could not move {source_id} to {target_id} (it exists, or {source_id} just "
                                     "moved).", repo_id=source_id) from None
        finally:
            self.index.mark_changed()

    def set_private(self, repo_id: str, private: bool) -> None:
        """Mark (or unmark) the repository private, and announce the change to the listing index."""
        self.reader.path(repo_id)  # RepositoryNotFoundError
        marker = self.layout.private_marker(repo_id)
        if private:
            marker.write_text("This repository is private: learnerhub serves it only to requests with a token.\n")
        else:
            marker.unlink(missing_ok=True)
        self.index.mark_changed()

    def _update_ref(self, repo_id: str, instruction: str, conflict: StoreConflictError) -> None:
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
        work = self.layout.scratch_folder("serve-commit-")
        try:
            files = []
            for number, content in enumerate(additions.values()):
                file = work / str(number)
                file.write_bytes(content)
                files.append(file)
            shas = git(repository, "hash-object", "-w", "--no-filters", "--stdin-paths",
                       input="".join(f"{f}\n" for f in files).encode()).decode().split()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return dict(zip(additions, shas))


def _apply(repo_id: str, entries: dict[str, tuple[str, str]], request: CommitRequest, blobs: dict[str, str]) -> None:
    for path in request.deleted_files:
        if entries.pop(path, None) is None:
            raise EntryNotFoundError(f"Cannot delete {path}: a file with this name doesn't exist.",
                                     repo_id=repo_id, path=path)
    for folder in request.deleted_folders:
        prefix = folder.rstrip("/") + "/"
        doomed = [path for path in entries if path.startswith(prefix)]
        if not doomed:
            raise EntryNotFoundError(f"Cannot delete folder {folder}: it doesn't exist.", repo_id=repo_id, path=folder)
        for path in doomed:
            del entries[path]
    for path, sha in blobs.items():
        if any(other.startswith(path + "/") for other in entries) or any(
                parent in entries for parent in _parents(path)):
            raise InvalidChangeError(f"Cannot add {path}: a file and a folder would have the same name.")
        entries[path] = ("100644", sha)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
