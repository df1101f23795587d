"""`registry.publish_protocol` over the Hub API, for stores behind an endpoint (the Hub, `learnerhub serve`).

The Hub has no multi-ref update and cannot point `main` at an existing commit, so the steps are:

1. commit the version on a fresh branch `learnerhub-publish-<time>-<id>` started at `main` (the first version
   of an empty repository goes to `main` directly: there is nothing to branch from);
2. create the tag at that commit ("must exist not": a 409 is VersionExistsError), delete the branch;
3. advance `main`: if its manifest is not the newest version's, commit the newest version's files onto
   it with `parent_commit` (a 412 from a racing writer is retried, not raised). An older version is
   tagged without touching `main`; a kill before step 3 is repaired by the next publish, which also
   deletes the publish branches killed publishers left (`remove_leftover_branches`).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, HfUriError

from cards.format.constants import LEARNER_FILE
from ..constants import MAIN_BRANCH, MANIFEST_FILE, is_hosting_file
from ..errors import RegistryError, StoreError, VersionExistsError
from ..lifecycle import LIFECYCLE_BRANCH, Lifecycle
from ..publish_protocol import newest, published_versions
from ..staging import StagedLearner
from ..version_gate import (GATE_ERRORS, check_tag_name, check_version_content, check_version_number, folder_files,
                           identity_of)
from ..versions import tag_name

MAX_ATTEMPTS = 30
#: A publish branch is named `learnerhub-publish-<unix time>-<id>`: the time says when a leftover is stale.
PUBLISH_BRANCH_PREFIX = "learnerhub-publish-"
STALE_BRANCH_SECONDS = 3600


class HubPublisher:
    """Publishes staged learners into repositories of one endpoint."""

    def __init__(self, api: HfApi, endpoint: str, *, read_file: Callable[[str, str, str], bytes],
                 lifecycle: Callable[[str], Lifecycle], token: str | None = None) -> None:
        self.api = api
        self.endpoint = endpoint
        self.read_file = read_file
        self.lifecycle = lifecycle
        self.token = token

    def _lifecycle_of(self, repo_id: str, refs) -> Lifecycle | None:
        """The repository's lifecycle log, read only when it has one (one request saved per publish)."""
        return self.lifecycle(repo_id) if any(b.name == LIFECYCLE_BRANCH for b in refs.branches) else None

    def publish(self, staged: StagedLearner) -> str:
        """Steps 1-3 for `staged`; the commit its tag points to."""
        repo_id, tag = staged.repo_id, tag_name(staged.version)
        try:
            self.api.create_repo(repo_id, exist_ok=True)
        except HfUriError:
            pass   # huggingface_hub's answer, on a custom endpoint, for a repository that exists but that this token
            #       may not create: the writes below get the server's own refusal (401/403), which says why
        self.advance_main(repo_id)   # repair what a killed publisher left
        self.remove_leftover_branches(repo_id)
        for _ in range(MAX_ATTEMPTS):
            refs = self.api.list_repo_refs(repo_id)
            lifecycle = self._lifecycle_of(repo_id, refs)
            # registry.version_gate, as the server's tag route runs it (which checks again when the tag is created)
            check_tag_name(tag, branches=[f"refs/heads/{b.name}" for b in refs.branches])
            check_version_number(repo_id, staged.version, tags=[t.name for t in refs.tags],
                                 lifecycle=lifecycle or Lifecycle())
            main = next((b.target_commit for b in refs.branches if b.name == MAIN_BRANCH), None)
            published = None   # (a new Hub repository holds .gitattributes only)
            if main is not None and published_versions({f"refs/tags/{t.name}": t.target_commit for t in refs.tags}):
                published = identity_of(self.read_file(repo_id, main, LEARNER_FILE),
                                        source=f"{repo_id}@main {LEARNER_FILE}")
            check_version_content(folder_files(staged.folder), repo_id=repo_id, version=staged.version,
                                  published=published)
            try:
                commit = self._commit_version(repo_id, staged, main)
            except HfHubHTTPError as error:
                if _status(error) in (409, 412):
                    continue   # main moved (or appeared) under us: start again from its new head
                raise
            self.advance_main(repo_id, local={staged.version: staged.folder})
            return commit
        raise StoreError(f"Could not publish {repo_id}@{staged.version} to {self.endpoint}: other writers kept "
                         "moving main. Try again.")

    def _commit_version(self, repo_id: str, staged: StagedLearner, main: str | None) -> str:
        tag = tag_name(staged.version)
        branch = None if main is None else f"{PUBLISH_BRANCH_PREFIX}{int(time.time())}-{uuid.uuid4().hex[:12]}"
        if branch is not None:
            self.api.create_branch(repo_id, branch=branch, revision=main)
        try:
            operations = _operations(staged.folder, [*staged.manifest.files, MANIFEST_FILE],
                                     self.api.list_repo_files(repo_id, revision=main) if main else [])
            commit = self.api.create_commit(repo_id, operations, commit_message=f"Publish {staged.name} {tag}",
                                            revision=branch or MAIN_BRANCH, parent_commit=main).oid
            try:
                self.api.create_tag(repo_id, tag=tag, revision=commit)
            except HfHubHTTPError as error:
                refusal = gate_refusal(error)
                if refusal is not None:
                    raise refusal from None
                if _status(error) == 409:
                    raise self.version_exists(repo_id, staged.version) from None
                raise
            return commit
        finally:
            if branch is not None:
                try:
                    self.api.delete_branch(repo_id, branch=branch)
                except HfHubHTTPError:
                    pass   # a leftover branch only holds a tagged (or unreachable) commit

    def remove_leftover_branches(self, repo_id: str, *, older_than: float = STALE_BRANCH_SECONDS) -> list[str]:
        """Delete the short-lived publish branches killed publishers left: one whose head is tagged (its version
        is published: the tag holds the commit), or one older than `older_than` seconds (by the time in its
        name). A live publisher's branch is neither, so it is never taken from under it."""
        refs = self.api.list_repo_refs(repo_id)
        tagged = {t.target_commit for t in refs.tags}
        removed = []
        for branch in refs.branches:
            if not branch.name.startswith(PUBLISH_BRANCH_PREFIX):
                continue
            started = branch.name.removeprefix(PUBLISH_BRANCH_PREFIX).split("-", 1)[0]
            stale = started.isdigit() and time.time() - int(started) > older_than
            if branch.target_commit in tagged or stale:
                try:
                    self.api.delete_branch(repo_id, branch=branch.name)
                    removed.append(branch.name)
                except HfHubHTTPError:
                    pass   # gone meanwhile (its publisher finished)
        return removed

    def advance_main(self, repo_id: str, *, local: dict[str, Path] | None = None) -> None:
        """Make `main` hold the newest published version that is not yanked (412s of racing writers retried)."""
        for _ in range(MAX_ATTEMPTS):
            refs = self.api.list_repo_refs(repo_id)
            versions = published_versions({f"refs/tags/{t.name}": t.target_commit for t in refs.tags},
                                          self._lifecycle_of(repo_id, refs))
            target_version = newest(versions)
            main = next((b.target_commit for b in refs.branches if b.name == MAIN_BRANCH), None)
            if target_version is None or main is None:
                return
            target = versions[target_version]
            if main == target or self._manifest_oid(repo_id, main) == self._manifest_oid(repo_id, target):
                return
            with tempfile.TemporaryDirectory(prefix="learnerhub-main-") as work:
                folder = (local or {}).get(str(target_version))
                if folder is None:
                    folder = Path(snapshot_download(repo_id, revision=target, local_dir=work, endpoint=self.endpoint,
                                                    token=self.token))
                files = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                         if p.is_file() and ".cache" not in p.relative_to(folder).parts]
                operations = _operations(folder, files, self.api.list_repo_files(repo_id, revision=main))
                try:
                    self.api.create_commit(repo_id, operations, parent_commit=main,
                                           commit_message=f"main holds the newest version, {tag_name(target_version)}")
                    return
                except HfHubHTTPError as error:
                    if _status(error) not in (409, 412):
                        raise
        raise StoreError(f"main of {repo_id} on {self.endpoint} kept moving; publish again to bring it forward.")

    def _manifest_oid(self, repo_id: str, commit: str) -> str | None:
        return next((entry.blob_id for entry in self.api.list_repo_tree(repo_id, revision=commit)
                     if entry.path == MANIFEST_FILE and hasattr(entry, "blob_id")), None)

    def version_exists(self, repo_id: str, version: str) -> VersionExistsError:
        return VersionExistsError(f"{repo_id} version {version} already exists on {self.endpoint} (or was deleted: "
                                  "numbers are never reused); published versions are immutable. Publish a new "
                                  "version (e.g. bump the patch).")


def _operations(folder: Path, files: list[str], present: list[str]) -> list:
    """Add every file of the version, delete what the parent has beyond it (hosting files such as the Hub's
    .gitattributes stay: `registry.constants.is_hosting_file`)."""
    adds = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in files]
    return adds + [CommitOperationDelete(path_in_repo=name) for name in sorted(set(present) - set(files))
                   if not is_hosting_file(name)]


def gate_refusal(error: HfHubHTTPError) -> RegistryError | None:
    """The `registry.version_gate` error a learnerhub server refused with (its X-Learnerhub-Error header names
    it), with the server's message; None for any other answer."""
    response = error.response
    kind = GATE_ERRORS.get(response.headers.get("X-Learnerhub-Error", "")) if response is not None else None
    if kind is None:
        return None
    try:
        message = str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        message = response.headers.get("X-Error-Message", str(error))
    return kind(message)


def _status(error: HfHubHTTPError) -> int | None:
    return error.response.status_code if error.response is not None else None
