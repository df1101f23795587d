"""Version, publish, find and pull learners: a local git store (the default) or a Hugging Face Hub.

The store sits above the ML library: it imports `learners` (which registers the shipped kinds) and offers
itself to it as the store that `Learner.push_to_hub` and `load_learner("ORG/NAME@1.0")` reach
(`learners/store_access.py`); both read the learner file format below them (`cards.format`).

Example:
    >>> import registry
    >>> registry.publish("runs/igf-kjv", version="1.0.0")
    >>> learner, resolution = registry.pull("kjv", base_model="smollm2", model=model, tokenizer=tokenizer)
"""

from . import learner_store  # noqa: F401 (offers itself to the library as its learner store)
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
