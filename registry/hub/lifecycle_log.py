"""The lifecycle log (`registry.lifecycle`) of a repository behind a Hub endpoint, through the Hub API.

The log is `lifecycle.json` on the branch `lifecycle`; an event is one commit with `parent_commit` (a
racing writer's 412 is retried on the new head, so no event is lost). Huggingface.co and
`learnerhub serve` both keep it the same way; the server also checks that a log it is sent is valid.
"""

from __future__ import annotations

import time
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError, RevisionNotFoundError

from ..constants import is_hosting_file
from ..errors import LifecycleError, StoreError
from ..lifecycle import LIFECYCLE_BRANCH, LIFECYCLE_FILE, Lifecycle, LifecycleEvent

MAX_ATTEMPTS = 20


class HubLifecycle:
    """Reads and appends the lifecycle logs of one endpoint's repositories."""

    def __init__(self, api: HfApi, endpoint: str, *, token: str | None = None, cache_dir: str | None = None) -> None:
        self.api = api
        self.endpoint = endpoint
        self.token = token
        self.cache_dir = cache_dir

    def read(self, repo_id: str) -> Lifecycle:
        """The replayed log (empty when the repository has none; the cached one when offline)."""
        try:
            path = hf_hub_download(repo_id, LIFECYCLE_FILE, revision=LIFECYCLE_BRANCH, cache_dir=self.cache_dir,
                                   endpoint=self.endpoint, token=self.token)
        except (EntryNotFoundError, RevisionNotFoundError):
            return Lifecycle()   # no log yet
        except LocalEntryNotFoundError:
            if constants.is_offline_mode():
                return Lifecycle()   # offline and never fetched: nothing known (writes are refused offline)
            raise StoreError(f"Cannot read the lifecycle log of {repo_id} from {self.endpoint}: it did not answer. "
                             "Nothing was resolved or recorded; retry.") from None
        return Lifecycle.from_json(Path(path).read_bytes(), source=f"{repo_id}@{LIFECYCLE_BRANCH}")

    def append(self, repo_id: str, event: LifecycleEvent, published: dict[str, str]) -> Lifecycle:
        """Validate `event` against `published` (version -> commit), commit the new log, return the new state."""
        for attempt in range(MAX_ATTEMPTS):
            head, others = self._branch(repo_id)
            current = self.read(repo_id) if head else Lifecycle()
            if event.action in ("yank", "delete") and event.commit is None and event.version in published:
                event = LifecycleEvent(**{**event.__dict__, "commit": published[event.version]})
            updated = current.with_event(event, published)
            operations = [CommitOperationAdd(LIFECYCLE_FILE, updated.to_json().encode()),
                          *(CommitOperationDelete(name) for name in others)]
            try:
                self.api.create_commit(repo_id, operations, revision=LIFECYCLE_BRANCH, parent_commit=head,
                                       commit_message=f"{event.action} {event.alias + ' -> ' if event.alias else ''}"
                                                      f"{event.version}", commit_description=event.reason or None)
                return updated
            except HfHubHTTPError as error:
                status = error.response.status_code if error.response is not None else None
                if status in (409, 422):   # the server refused the event itself (it checks the log it is sent)
                    raise LifecycleError(error.server_message or str(error)) from None
                if status != 412:
                    raise
                time.sleep(min(0.05 * 2 ** attempt, 1.0))   # another writer appended: replay on its head
        raise StoreError(f"The lifecycle log of {repo_id} on {self.endpoint} kept moving; nothing was recorded. Retry.")

    def _branch(self, repo_id: str) -> tuple[str, list[str]]:
        """The log branch's head (created from main when missing) and the files on it other than the log."""
        refs = self.api.list_repo_refs(repo_id)
        head = next((b.target_commit for b in refs.branches if b.name == LIFECYCLE_BRANCH), None)
        if head is None:
            try:
                self.api.create_branch(repo_id, branch=LIFECYCLE_BRANCH)
            except HfHubHTTPError as error:
                if error.response is None or error.response.status_code != 409:
                    raise
            refs = self.api.list_repo_refs(repo_id)
            head = next(b.target_commit for b in refs.branches if b.name == LIFECYCLE_BRANCH)
        files = self.api.list_repo_files(repo_id, revision=head)
        return head, [name for name in files if name != LIFECYCLE_FILE and not is_hosting_file(name)]
