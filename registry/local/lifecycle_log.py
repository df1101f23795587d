"""The lifecycle log (`registry.lifecycle`) in a bare git repository of the local store or the server.

Reading is one ref-file read and, when the branch exists, one `git cat-file`. Appending writes the new
log as a commit on top of the branch and moves it with a compare-and-swap `git update-ref`, retried
when another writer got there first, so no event is lost. Then the refs follow the log: a deleted
version's tag is removed, and `main` moves to the newest version that is not yanked.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..lifecycle import LIFECYCLE_BRANCH, LIFECYCLE_FILE, Lifecycle, LifecycleEvent
from ..versions import tag_name, version_of_tag
from .git import ZERO_SHA, GitCommandError, git, read_refs, write_tree_entries

LIFECYCLE_REF = f"refs/heads/{LIFECYCLE_BRANCH}"
MAX_APPEND_ATTEMPTS = 30


def read_lifecycle(repository: Path, refs: dict[str, str] | None = None) -> Lifecycle:
    """The replayed log of `repository` (empty when it has none); LifecycleError when it is malformed."""
    head = (refs if refs is not None else read_refs(repository, "refs/heads/")).get(LIFECYCLE_REF)
    if head is None:
        return Lifecycle()
    try:
        text = git(repository, "cat-file", "blob", f"{head}:{LIFECYCLE_FILE}")
    except GitCommandError:
        return Lifecycle()   # the branch was just created (through the Hub API) and holds no log yet
    return Lifecycle.from_json(text, source=f"{repository.parent.name}/{repository.name}@{LIFECYCLE_BRANCH}")


def published_tags(repository: Path) -> dict[str, str]:
    """Version -> commit of every canonical version tag."""
    found = {}
    for ref, sha in read_refs(repository, "refs/tags/").items():
        version = version_of_tag(ref.removeprefix("refs/tags/"))
        if version is not None:
            found[str(version)] = sha
    return found


def append_event(repository: Path, event: LifecycleEvent) -> Lifecycle:
    """Validate `event` against the repository, append it to the log (CAS, retried), return the new state."""
    for attempt in range(MAX_APPEND_ATTEMPTS):
        refs = read_refs(repository, "refs/heads/")
        head = refs.get(LIFECYCLE_REF)
        current = read_lifecycle(repository, refs)
        published = published_tags(repository)
        if event.action in ("yank", "delete") and event.commit is None and event.version in published:
            event = LifecycleEvent(**{**event.__dict__, "commit": published[event.version]})
        updated = current.with_event(event, published)
        blob = git(repository, "hash-object", "-w", "--stdin", input=updated.to_json().encode()).decode().strip()
        tree = write_tree_entries(repository, {LIFECYCLE_FILE: ("100644", blob)})
        named = event.alias + " -> " if event.alias else ""
        message = f"{event.action} {named}{event.version}\n\n{event.reason}".strip()
        commit = git(repository, "commit-tree", tree, *(["-p", head] if head else []), "-F", "-",
                     input=message.encode()).decode().strip()
        try:
            git(repository, "update-ref", "--stdin",
                input=f"update {LIFECYCLE_REF} {commit} {head or ZERO_SHA}\n".encode())
        except GitCommandError:
            time.sleep(min(0.005 * 2 ** attempt, 0.1))   # another writer appended meanwhile: replay on its head
            continue
        return updated
    raise GitCommandError(f"The lifecycle log of {repository} kept moving; nothing was recorded. Retry.", "")


def remove_deleted_tags(repository: Path, lifecycle: Lifecycle) -> None:
    """Delete the tags the log says are deleted (still pointing at the deleted commit: CAS)."""
    for version, commit in lifecycle.deleted.items():
        ref = f"refs/tags/{tag_name(version)}"
        current = read_refs(repository, "refs/tags/").get(ref)
        if current is not None and commit in ("", current):
            try:
                git(repository, "update-ref", "--stdin", input=f"delete {ref} {current}\n".encode())
            except GitCommandError:
                pass   # moved or removed by another writer meanwhile: the log still rules readers
