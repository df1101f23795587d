"""Registry failures a user can cause, each with a message that says what to do next."""

from __future__ import annotations

from learners.errors import LearnerHubError


class RegistryError(LearnerHubError):
    """Base class of every registry error."""


class InvalidVersionError(RegistryError, ValueError):
    """A version to publish is not semantic (X.Y.Z), or a version spec cannot be parsed."""


class VersionExistsError(RegistryError, FileExistsError):
    """The version was already published: versions are immutable, publish a new one instead."""


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
