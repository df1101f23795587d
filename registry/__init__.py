"""Version, publish, find and pull learners: a local git store (the default) or a Hugging Face Hub.

Example:
    >>> import registry
    >>> registry.publish("runs/igf-kjv", version="1.0.0")
    >>> learner, resolution = registry.pull("kjv", base_model="smollm2", model=model, tokenizer=tokenizer)
"""

from .client import LearnerInfo, PulledLearner, download, info, list_learners, publish, pull
from .errors import (AmbiguousLearnerError, IntegrityError, InvalidVersionError, LearnerNotFoundError, LockFileError,
                     RegistryError, RepositoryConflictError, StoreError, VersionExistsError, VersionNotFoundError,
                     WrongBaseModelError)
from .resolve import Resolution
from .store import LearnerSummary, PublishedLearner, Store
from .store_choice import open_store

__all__ = ["AmbiguousLearnerError", "IntegrityError", "InvalidVersionError", "LearnerInfo", "LearnerNotFoundError",
           "LearnerSummary", "LockFileError", "PublishedLearner", "PulledLearner", "RegistryError",
           "RepositoryConflictError", "Resolution", "Store", "StoreError", "VersionExistsError",
           "VersionNotFoundError", "WrongBaseModelError", "download", "info", "list_learners", "open_store",
           "publish", "pull"]
