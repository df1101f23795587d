"""Registry failures a user can cause, each with a message that says what to do next."""

from __future__ import annotations

from cards.format.errors import LearnerHubError


class RegistryError(LearnerHubError):
    """Base class of every registry error."""


class InvalidVersionError(RegistryError, ValueError):
    """A version to publish is not semantic (X.Y.Z), or a version spec cannot be parsed."""


class VersionExistsError(RegistryError, FileExistsError):
    """The version was already published: versions are immutable, publish a new one instead."""


class VersionDeletedError(VersionExistsError):
    """The version number was deleted through the lifecycle: numbers are never reused."""


class VersionNotFoundError(RegistryError, LookupError):
    """No published version of a learner matches the version spec (or commit) asked for."""


class LearnerNotFoundError(RegistryError, LookupError):
    """The store has no learner for this corpus (the message lists the closest names) or repository."""


class WrongBaseModelError(LearnerNotFoundError):
    """The store has learners for the corpus, but built for other base models (the message names both)."""


class AmbiguousLearnerError(RegistryError, LookupError):
    """Several repositories (in different organisations) fit the request: pass an organisation."""


class RepositoryConflictError(RegistryError, ValueError):
    """A learner is published into a repository that holds another kind, base model or corpus."""


class IntegrityError(RegistryError):
    """A learner's file does not have the sha256 recorded when it was published (tampered or corrupted)."""


class BrokenVersionError(IntegrityError):
    """The published version itself is broken (no or a wrong manifest, files that do not match it, another
    learner's files), not a local copy of it: a pull by range or latest passes over it to an intact one."""


class LockFileError(RegistryError, ValueError):
    """learnerhub.lock is unreadable, or holds no entry for what `--locked` asked to reproduce."""


class StoreError(RegistryError, OSError):
    """The store cannot be read or written (not a learnerhub store, git failed, offline, ...)."""


class LifecycleError(RegistryError, ValueError):
    """A yank, un-yank, delete or alias that does not apply (already yanked, alias of a yanked version, ...),
    or a repository whose lifecycle log is malformed."""


class RegistryWarning(UserWarning):
    """Something a pull chose to do that the user should know of (a yanked pin, a broken version skipped)."""
# Errors of the repository-level API (`registry.local.repository_reader` / `registry.local.repository_writer`):
# they carry structured fields, so a front end (the server) can answer in its own protocol without parsing messages.
class RepositoryNotFoundError(LearnerNotFoundError):
    """The store has no repository `repo_id` (no bare git folder at its place)."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(f"The store has no repository {repo_id}.")
        self.repo_id = repo_id


class RevisionNotFoundError(RegistryError, LookupError):
    """`revision` names no branch, tag or commit of `repo_id`."""

    def __init__(self, repo_id: str, revision: str, *, reason: str | None = None) -> None:
        super().__init__(f"Revision {revision!r} not found in {repo_id}{f': {reason}' if reason else ''}.")
        self.repo_id = repo_id
        self.revision = revision
        self.reason = reason   # why, when more can be said than "no such revision" (an ambiguous short sha)


class EntryNotFoundError(RegistryError, LookupError):
    """A change names a file or folder the repository does not have."""

    def __init__(self, message: str, *, repo_id: str, path: str) -> None:
        super().__init__(message)
        self.repo_id = repo_id
        self.path = path


class InvalidChangeError(RegistryError, ValueError):
    """A change the repository cannot hold (e.g. a file and a folder with the same path)."""


class ProtectedRefError(RegistryError, PermissionError):
    """A ref that must stay (the main branch) was asked to go."""


class StoreConflictError(RegistryError):
    """A change conflicts with what the repository holds now: a ref exists, moved, or a name is taken."""

    def __init__(self, message: str, *, repo_id: str) -> None:
        super().__init__(message)
        self.repo_id = repo_id


class PreconditionFailedError(StoreConflictError):
    """A commit was based on `expected`, but `branch` is at `current` now (ZERO_SHA: no commit yet)."""

    def __init__(self, message: str, *, repo_id: str, branch: str, expected: str, current: str) -> None:
        super().__init__(message, repo_id=repo_id)
        self.branch = branch
        self.expected = expected
        self.current = current
