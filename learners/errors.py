"""Every failure a user can cause has its own exception, with a message that says what to do next."""

from __future__ import annotations


class LearnerHubError(Exception):
    """Base class of all learnerhub errors."""


class CorpusError(LearnerHubError, ValueError):
    """The corpus cannot be read, or holds no document long enough to cut a context from."""


class BaseModelNotFoundError(LearnerHubError, FileNotFoundError):
    """The base model named by the user cannot be found or loaded."""


class BaseModelMismatchError(LearnerHubError, ValueError):
    """A learner is attached to a base model (tokenizer or embeddings) it was not built for."""


class LearnerFormatError(LearnerHubError, ValueError):
    """A learner folder is incomplete, corrupted, or in a format learnerhub will not load."""


class UsageError(LearnerHubError, ValueError):
    """A command-line value that cannot be used (the message says which values can)."""
