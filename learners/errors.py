"""The ML library's own failures (corpora, base models), each with a message that says what to do next.

The base errors (`LearnerHubError`, `LearnerFormatError`, `UsageError`) belong to the file format below
(`cards.format.errors`), which the store raises too.
"""

from __future__ import annotations

from cards.format.errors import LearnerHubError


class CorpusError(LearnerHubError, ValueError):
    """The corpus cannot be read, or holds no document long enough to cut a context from."""


class BaseModelNotFoundError(LearnerHubError, FileNotFoundError):
    """The base model named by the user cannot be found or loaded."""


class BaseModelMismatchError(LearnerHubError, ValueError):
    """A learner is attached to a base model (tokenizer or embeddings) it was not built for."""
