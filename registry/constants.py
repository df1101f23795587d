"""Registry defaults and environment variables in one place (the store, the cache, file names)."""

from __future__ import annotations

import os
from pathlib import Path

from cards.format.constants import LEARNERHUB_HOME  # noqa: F401 (the store's home; tests repoint it here)

#: Organisation a learner is published under when none is given.
DEFAULT_ORG = "local"

#: A path or an http(s) URL (a Hub-compatible server) used when neither --store nor --endpoint is given.
STORE_ENV = "LEARNERHUB_STORE"

#: Written into every published repository: the sha256 and size of each other file.
MANIFEST_FILE = "learnerhub.manifest.json"
CARD_FILE = "README.md"

LOCK_FILE = "learnerhub.lock"

#: Files a hosting service keeps in a repository that are no part of any learner version: the Hub creates a
#: `.gitattributes` in every new repository. One rule everywhere: never published, never read out of a version
#: (so its attributes never apply), never counted as an unlisted file by a check.
HOSTING_FILE_NAMES = frozenset({".gitattributes"})


def is_hosting_file(path: str) -> bool:
    """Whether `path` (posix, relative to the repository) is a hosting file at any depth (see above)."""
    return path.rpartition("/")[2] in HOSTING_FILE_NAMES

#: Test hook (see `registry.local.store.pause_point`): publish sleeps at this named point.
PAUSE_ENV = "LEARNERHUB_TEST_PAUSE_AT"

MAIN_BRANCH = "main"
TAG_PREFIX = "v"


def default_store_path() -> Path:
    """`$LEARNERHUB_STORE` when it is a path, else `LEARNERHUB_HOME/store`."""
    configured = os.environ.get(STORE_ENV)
    if configured and not configured.startswith(("http://", "https://")):
        return Path(configured).expanduser()
    return LEARNERHUB_HOME / "store"


def default_cache_dir() -> Path:
    """Where pulled versions of a local store are checked out: `LEARNERHUB_HOME/cache/learners`."""
    return LEARNERHUB_HOME / "cache" / "learners"
