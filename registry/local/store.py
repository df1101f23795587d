"""The embedded store: one bare git repository per learner at `<store>/models/<org>/<name>`.

Layout (the Hub's own, so a Hub-compatible server can serve the folder unchanged)::

    <store>/models/<org>/<name>/     bare git repository: branch main (newest version), tags v1.0.0, ...
    <store>/.learnerhub/             listing index, generation stamp, pending-publish markers
    <store>/.tmp/                    staging of publishes in progress (leftovers of killed ones are ignored)

Bare repositories because nothing needs a working tree: publishing writes objects with plumbing, then
follows `registry.publish_protocol`: the tag is created ("must not exist", one ref: the version is
published or absent), then `main` advances to the newest version (compare-and-swap, forward only).
So a race for one version has exactly one winner, and a publisher killed at any point leaves either
only unreachable objects or a published version with `main` behind, which the next publish repairs.
A new repository is built complete (with its first version) in `.tmp/` and renamed into place.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cards.format.constants import LEARNER_FILE
from cards.suggestions import did_you_mean
from ..constants import MAIN_BRANCH, PAUSE_ENV, default_cache_dir
from ..errors import BrokenVersionError, LearnerNotFoundError, StoreError
from ..lifecycle import Lifecycle, LifecycleEvent
from ..manifest import Manifest
from ..publish_protocol import advance_main, backoff, clear_stale_locks, fresh_lock_hint
from ..staging import StagedLearner, stage_learner
from ..store import LearnerSummary, PublishedLearner
from ..version_gate import check_tag_name, check_version_content, check_version_number, folder_files, identity_of
from ..versions import latest_version, tag_name
from .git import ZERO_SHA, GitCommandError, git, read_refs, write_tree
from .git_export import export_commit
from .index import STALE_PENDING_SECONDS, LearnerIndex
from .lifecycle_log import LIFECYCLE_REF, append_event, published_tags, read_lifecycle, remove_deleted_tags
from .repository_reader import RepositoryReader
from .repository_writer import RepositoryWriter, create_bare_repository
from .layout import StoreLayout

MAX_PUBLISH_ATTEMPTS = 50


def pause_point(name: str) -> None:
    """Test hook: if $LEARNERHUB_TEST_PAUSE_AT is `name`, say so on stderr and wait (to be killed).

    Points, in order: `after-stage`, `before-rename` (new repository built in .tmp/), `after-objects`,
    `after-commit`, `after-tag` (existing repository: tag created, main not yet advanced), `after-refs`.
    Used by the atomicity tests only.
    """
    if os.environ.get(PAUSE_ENV) == name:
        print(f"learnerhub: paused at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


class LocalStore:
    """A folder of git repositories of learners; see the module docstring for its layout."""

    def __init__(self, root: Path, *, cache_dir: Path | None = None) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"The store {self.root} is a file, not a folder: pass the folder that holds (or will "
                             "hold) models/, e.g. --store ~/learners.")
        self.location = str(self.root)
        self.layout = StoreLayout(self.root)
        self.models = self.layout.models
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.index = LearnerIndex(self.root)
        #: Repository-level reads and writes by repository id (what a Hub-compatible server needs).
        self.reader = RepositoryReader(self.layout)
        self.writer = RepositoryWriter(self.layout, self.reader, self.index)

    def repository(self, repo_id: str) -> Path:
        path = self.models / repo_id
        if not (path / "HEAD").is_file():
            hint = did_you_mean(repo_id, [summary.repo_id for summary in self.list_learners()])
            raise LearnerNotFoundError(f"The store {self.root} has no learner {repo_id!r}.{hint} "
                                       "See `learnerhub list` for the learners it has.")
        return path

    # Publishing ---------------------------------------------------------------------------------
    def publish(self, source: Path, *, version: str, org: str) -> PublishedLearner:
        work = self.layout.scratch_folder("publish-")
        self._remove_abandoned(self.layout.scratch)
        try:
            (work / "files").mkdir()
            staged = stage_learner(source, work / "files", version=version, org=org)
            pause_point("after-stage")
            marker = self.index.begin_change(staged.repo_id)
            commit = self._create_repository(staged, work / "repo") or self._publish_into_existing(staged)
            pause_point("after-refs")
            self.index.end_change(marker)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        repository = self.layout.repository(staged.repo_id)
        newest = latest_version(published_tags(repository), read_lifecycle(repository))
        return PublishedLearner(staged.repo_id, staged.version, commit, self.location, staged.manifest.files,
                                is_latest=staged.version == newest)

    def _create_repository(self, staged: StagedLearner, scratch_repo: Path) -> str | None:
        """Build the repository with its first version in .tmp/ and rename it into place.

        Returns the commit, or None when the repository already exists (or appeared meanwhile).
        """
        check_tag_name(tag_name(staged.version))
        check_version_content(folder_files(staged.folder), repo_id=staged.repo_id, version=staged.version,
                              published=None)
        commits = []

        def first_version(repository: Path) -> None:
            commit = git(repository, "commit-tree", write_tree(repository, staged.folder),
                         "-m", f"Publish {staged.name} {tag_name(staged.version)}").decode().strip()
            git(repository, "update-ref", "--stdin",
                input=f"create refs/heads/{MAIN_BRANCH} {commit}\ncreate refs/tags/{tag_name(staged.version)} "
                      f"{commit}\n".encode())
            commits.append(commit)
            pause_point("before-rename")

        created = create_bare_repository(self.layout.repository(staged.repo_id), scratch_repo, first_version)
        return commits[0] if created else None

    def _publish_into_existing(self, staged: StagedLearner) -> str:
        """Steps 1-3 of `registry.publish_protocol` into an existing repository (after repairing it)."""
        repository = self.layout.repository(staged.repo_id)
        clear_stale_locks(repository)
        advance_main(repository)   # repair: a publisher killed between its tag and main left main behind
        tree = write_tree(repository, staged.folder)
        pause_point("after-objects")
        tag_ref = f"refs/tags/{tag_name(staged.version)}"
        last_error = "main kept moving"
        for attempt in range(MAX_PUBLISH_ATTEMPTS):
            refs = read_refs(repository)
            self._check_version(repository, refs, staged)
            main = refs.get(f"refs/heads/{MAIN_BRANCH}")
            commit = git(repository, "commit-tree", tree, *(["-p", main] if main else []),
                         "-m", f"Publish {staged.name} {tag_name(staged.version)}").decode().strip()
            pause_point("after-commit")
            if read_refs(repository).get(f"refs/heads/{MAIN_BRANCH}") != main:
                continue   # main moved meanwhile: build on its new head, so that main can fast-forward
            try:
                # one transaction with the log's head verified: a delete of this number recorded since `refs` was
                # read fails the creation (then the loop sees the deletion), so a deleted number is never re-tagged
                log_head = refs.get(LIFECYCLE_REF) or ZERO_SHA
                git(repository, "update-ref", "--stdin",
                    input=f"create {tag_ref} {commit}\nverify {LIFECYCLE_REF} {log_head}\n".encode())
            except GitCommandError as error:
                if tag_ref in read_refs(repository, "refs/tags/"):
                    self._check_version(repository, read_refs(repository), staged)   # raises VersionExistsError
                last_error = " ".join(error.stderr.split())   # a racer holds the tag's lock (it wins, or dies): retry
                clear_stale_locks(repository)
                time.sleep(backoff(attempt))
                continue
            pause_point("after-tag")
            advance_main(repository)
            return commit
        raise StoreError(f"Could not publish {staged.repo_id}@{staged.version}: {last_error}."
                         f"{fresh_lock_hint(repository)}")

    def _check_version(self, repository: Path, refs: dict[str, str], staged: StagedLearner) -> None:
        """`registry.version_gate`, as the server's tag route runs it: a valid tag name, a new number, a complete
        learner version of the learner the repository holds (main's)."""
        check_tag_name(tag_name(staged.version), branches=[r for r in refs if r.startswith("refs/heads/")])
        tags = [ref.removeprefix("refs/tags/") for ref in refs if ref.startswith("refs/tags/")]
        check_version_number(staged.repo_id, staged.version, tags=tags, lifecycle=read_lifecycle(repository, refs))
        main = refs.get(f"refs/heads/{MAIN_BRANCH}")
        published = None if main is None else identity_of(git(repository, "cat-file", "blob", f"{main}:{LEARNER_FILE}"),
                                                          source=f"{staged.repo_id}@main {LEARNER_FILE}")
        check_version_content(folder_files(staged.folder), repo_id=staged.repo_id, version=staged.version,
                              published=published)

    # Lifecycle ----------------------------------------------------------------------------------
    def lifecycle(self, repo_id: str) -> Lifecycle:
        """Yanks, deletions and aliases of the repository (`registry.lifecycle`)."""
        return read_lifecycle(self.repository(repo_id))

    def record(self, repo_id: str, event: LifecycleEvent) -> Lifecycle:
        """Append `event` to the repository's log, then make the refs follow: a deleted version's tag goes,
        `main` moves to the newest version that is not yanked."""
        repository = self.repository(repo_id)
        marker = self.index.begin_change(repo_id)
        try:
            clear_stale_locks(repository)
            lifecycle = append_event(repository, event)
            self.settle(repo_id)
        finally:
            self.index.end_change(marker)
        return lifecycle

    def settle(self, repo_id: str) -> Lifecycle:
        """Make the refs follow the lifecycle log (also after a log written through the Hub API, or a kill)."""
        repository = self.repository(repo_id)
        lifecycle = read_lifecycle(repository)
        remove_deleted_tags(repository, lifecycle)
        advance_main(repository)
        return lifecycle

    @staticmethod
    def _remove_abandoned(scratch: Path) -> None:
        """Leftovers of publishes killed more than an hour ago."""
        for entry in scratch.iterdir():
            try:
                if time.time() - entry.stat().st_mtime > STALE_PENDING_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:
                pass

    # Reading ------------------------------------------------------------------------------------
    def list_learners(self, *, corpus: str | None = None, base_model: str | None = None, kind: str | None = None,
                      org: str | None = None, refresh: bool = False) -> list[LearnerSummary]:
        if base_model is not None:
            from cards.format.naming import canonical_base_model

            base_model = canonical_base_model(base_model)
        return self.index.query(corpus=corpus, base_model=base_model, kind=kind, org=org, refresh=refresh)

    def corpus_names(self) -> list[str]:
        return self.index.corpus_names()

    def versions(self, repo_id: str) -> dict[str, str]:
        return published_tags(self.repository(repo_id))

    def read_file(self, repo_id: str, commit: str, path: str) -> bytes:
        try:
            return git(self.repository(repo_id), "cat-file", "blob", f"{commit}:{path}")
        except GitCommandError as error:
            raise StoreError(f"{repo_id} has no {path} at commit {commit[:12]}: {error.stderr}") from None

    def fetch(self, repo_id: str, commit: str, manifest: Manifest, *,
              expected: dict[str, str] | None = None) -> Path:
        """Read the version into the cache once (as data: `registry.local.git_export`), verify it on every call.

        Whatever stops the read (an unsafe tree entry, a missing or altered object) makes the version broken
        (BrokenVersionError), which a pull by range or latest passes over with a warning naming it.
        """
        folder = self.cache_dir / repo_id / commit
        if not folder.is_dir():
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=folder.parent))
            try:
                try:
                    export_commit(self.repository(repo_id), commit, staging)
                    problem = manifest.mismatch(staging)
                except (BrokenVersionError, GitCommandError, ValueError) as error:
                    problem = str(error)
                if problem:
                    raise BrokenVersionError(f"The store's copy of {repo_id}@{manifest.version} "
                                             f"(commit {commit[:12]} in {self.models / repo_id}) is damaged: "
                                             f"{problem}. Nothing was loaded; "
                                             "restore the repository from a backup, or publish a new version.")
                try:
                    os.rename(staging, folder)
                except OSError:
                    if not folder.is_dir():
                        raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        manifest.verify(folder, expected=expected)
        return folder
