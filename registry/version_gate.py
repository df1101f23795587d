"""The one gate for what may become a version: local publish, endpoint publish and the server's tag route all
pass it, so a version refused one way is refused every way, with the same registry error and message.

A new tag must have a valid name (`check_tag_name`: a version tag in its one canonical spelling, never a
reserved ref name or a branch's name); a version number must be new (`check_version_number`: neither tagged
nor deleted, as numbers are never reused); and the commit must hold a complete, loadable learner version of
this repository (`check_version_content`: the manifest and its files, learner.json by the one validator of
`cards.format.metadata_schema`, the learner of the repository's other versions). `check_new_tag` runs all three
on a tag about to be created in a store's repository (what the server's tag route asks).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from packaging.version import Version

from cards.format.errors import LearnerFormatError
from cards.format.identity import LearnerIdentity
from cards.format.constants import LEARNER_FILE
from cards.format.metadata import LearnerMetadata, checked_learner
from .constants import MAIN_BRANCH
from .errors import (IntegrityError, InvalidChangeError, InvalidVersionError, RegistryError, RepositoryConflictError,
                     VersionDeletedError, VersionExistsError)
from .integrity import check_version_commit
from .lifecycle import LIFECYCLE_BRANCH, Lifecycle
from .versions import check_version_tag, tag_name, version_of_tag

#: Names no tag (and, HEAD, no branch) may take: a revision is resolved as a branch first, then a tag, and git
#: itself reads HEAD first, so `main` as a tag, or a branch HEAD, would make one revision mean two commits.
RESERVED_REF_NAMES = frozenset({"head", MAIN_BRANCH, LIFECYCLE_BRANCH})


#: The errors the gate refuses with, each made from its message alone: a server answering with one names it
#: (server.core.errors' X-Learnerhub-Error header), so an endpoint publisher raises the very error a local one would.
GATE_ERRORS: dict[str, type[RegistryError]] = {kind.__name__: kind for kind in (
    InvalidVersionError, InvalidChangeError, VersionExistsError, VersionDeletedError, IntegrityError,
    RepositoryConflictError)}


def check_unambiguous(name: str, kind: str, others: Iterable[str]) -> None:
    """InvalidChangeError unless `name` can be a `kind` ("tag" or "branch") without making a revision ambiguous:
    not a reserved name (any case), and not the name of an existing ref of the other kind (`others`: full refs)."""
    reserved = name.lower() == "head" if kind == "branch" else name.lower() in RESERVED_REF_NAMES
    clash = f"refs/{'tags' if kind == 'branch' else 'heads'}/{name}" in set(others)
    if reserved or clash:
        raise InvalidChangeError(f"A {kind} named {name!r} would make the revision {name!r} ambiguous (HEAD, main and "
                                 f"lifecycle are reserved, and a tag and a branch may not share a name): choose "
                                 "another name.")


def check_tag_name(tag: str, *, branches: Iterable[str] = ()) -> str | None:
    """The version a new tag `tag` publishes (None: a plain tag, no version), or InvalidVersionError (a
    version tag not in its canonical spelling) or InvalidChangeError (a reserved name, a branch's name)."""
    check_version_tag(tag)
    check_unambiguous(tag, "tag", branches)
    version = version_of_tag(tag)
    return None if version is None else str(version)


def check_version_number(repo_id: str, version: str, *, tags: Iterable[str], lifecycle: Lifecycle) -> None:
    """VersionDeletedError for a deleted number, VersionExistsError for a tagged one (`tags`: tag names)."""
    if version in lifecycle.deleted:
        raise VersionDeletedError(f"{repo_id} version {version} was deleted; version numbers are never reused. "
                                  "Publish a new version instead (e.g. bump the patch).")
    if tag_name(version) in set(tags):
        raise VersionExistsError(f"{repo_id} version {version} already exists; published versions are immutable. "
                                 "Publish a new version instead (e.g. bump the patch).")


def learner_identity(metadata: LearnerMetadata) -> LearnerIdentity:
    """The identity of a learner (`LearnerIdentity`), whichever format its learner.json is in."""
    return LearnerIdentity.of(metadata)


def identity_of(learner_json: bytes | str | None, *, source: str) -> LearnerIdentity:
    """The identity of a published learner.json; IntegrityError when it is missing or malformed."""
    try:
        return learner_identity(checked_learner(json.loads(learner_json or "null"), source=source))
    except (ValueError, RecursionError, LearnerFormatError) as error:
        raise IntegrityError(f"{source}: {error}") from None


def check_version_content(files: dict[str, Callable[[], bytes]], *, repo_id: str, version: str,
                          published: LearnerIdentity | None) -> None:
    """IntegrityError unless `files` (path -> reader) are a complete learner version `repo_id@version` with a
    valid learner.json; RepositoryConflictError when its learner is not the one the repository's versions
    (`published`: None for the first) hold."""
    check_version_commit(files, repo_id=repo_id, version=version)
    identity = identity_of(files[LEARNER_FILE](), source=f"{repo_id}@{version}/{LEARNER_FILE}")
    if published is not None and identity != published:
        raise RepositoryConflictError(f"{repo_id}@{version} holds {identity.describe()}, but the repository's "
                                      f"versions are {published.describe()}. Publish it under another organisation, "
                                      "or check its learner.json.")


def folder_files(folder: Path) -> dict[str, Callable[[], bytes]]:
    """Every file of a staged version folder, as `check_version_content` reads them."""
    return {path.relative_to(folder).as_posix(): path.read_bytes for path in sorted(folder.rglob("*"))
            if path.is_file()}


def check_new_tag(store: Any, repo_id: str, tag: str, commit: str) -> None:
    """Everything above, for `tag` about to be created at `commit` in `store`'s repository `repo_id` (a
    `registry.local.store.LocalStore`): the server's tag route. A plain tag needs a valid name only."""
    reader = store.reader
    version = check_tag_name(tag, branches=reader.refs(repo_id, "refs/heads/"))
    if version is None:
        return
    tags = [ref.removeprefix("refs/tags/") for ref in reader.refs(repo_id, "refs/tags/")]
    check_version_number(repo_id, version, tags=tags, lifecycle=store.lifecycle(repo_id))
    files: dict[str, Callable[[], bytes]] = {path: functools.partial(reader.blob, repo_id, entry)
                                             for path, entry in reader.tree(repo_id, commit).items()}
    published = store.versions(repo_id)
    newest = max(published, key=Version) if published else None
    identity = None if newest is None else identity_of(reader.read_text(repo_id, published[newest], LEARNER_FILE),
                                                       source=f"{repo_id}@{newest}/{LEARNER_FILE}")
    check_version_content(files, repo_id=repo_id, version=version, published=identity)
