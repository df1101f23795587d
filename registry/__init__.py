"""Version, publish, find and pull learners: a local git store (the default) or a Hugging Face Hub.

The store client sits below the ML library (`learners` imports it, never the reverse) and holds the learner
file format both read (`registry.format`); learner kinds are registered into it from above (`import learners`).

Example:
    >>> import learners, registry     # learners registers the shipped kinds (their cards, loading)
    >>> registry.publish("runs/igf-kjv", version="1.0.0")
    >>> learner, resolution = registry.pull("kjv", base_model="smollm2", model=model, tokenizer=tokenizer)
"""

from .client import LearnerInfo, PulledLearner, download, info, list_learners, publish, pull
from .errors import (AmbiguousLearnerError, IntegrityError, InvalidVersionError, LearnerNotFoundError, LifecycleError,
                     LockFileError, RegistryError, RegistryWarning, RepositoryConflictError, StoreError,
                     VersionExistsError, VersionNotFoundError, WrongBaseModelError)
from .lifecycle import Lifecycle, LifecycleEvent
from .lifecycle_actions import delete_version, lifecycle, remove_alias, set_alias, unyank, yank
from .resolve import Resolution
from .store import LearnerSummary, PublishedLearner, Store
from .store_choice import open_store

__all__ = ["AmbiguousLearnerError", "IntegrityError", "InvalidVersionError", "LearnerInfo", "LearnerNotFoundError",
           "LearnerSummary", "Lifecycle", "LifecycleError", "LifecycleEvent", "LockFileError", "RegistryWarning",
           "delete_version", "lifecycle", "remove_alias", "set_alias", "unyank", "yank", "PublishedLearner",
           "PulledLearner", "RegistryError",
           "RepositoryConflictError", "Resolution", "Store", "StoreError", "VersionExistsError",
           "VersionNotFoundError", "WrongBaseModelError", "download", "info", "list_learners", "open_store",
           "publish", "pull"]
