"""The base errors of learnerhub, raised by the file format and the store and caught by every front end.

Each failure a user can cause has its own exception, with a message that says what to do next; the ML
library's own (corpora, base models) subclass `LearnerHubError` in `learners.errors`.
"""

from __future__ import annotations


class LearnerHubError(Exception):
    """Base class of all learnerhub errors."""


class LearnerFormatError(LearnerHubError, ValueError):
    """A learner folder is incomplete, corrupted, or in a format learnerhub will not load."""


class UsageError(LearnerHubError, ValueError):
    """A command-line value that cannot be used (the message says which values can)."""


class NotSafetensorsError(LearnerFormatError):
    """model.safetensors is something else (a pickle, a torch.save zip): refused, never unpickled."""
