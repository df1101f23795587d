"""Registry defaults and environment variables in one place (the store, the cache, file names)."""

from __future__ import annotations

import os
from pathlib import Path

from learners import constants as learner_constants

#: Organisation a learner is published under when none is given.
DEFAULT_ORG = "local"

#: A path or an http(s) URL (a Hub-compatible server) used when neither --store nor --endpoint is given.
STORE_ENV = "LEARNERHUB_STORE"

#: Written into every published repository: the sha256 and size of each other file.
MANIFEST_FILE = "learnerhub.manifest.json"
CARD_FILE = "README.md"
ASSETS_DIR = "assets"

LOCK_FILE = "learnerhub.lock"

#: Test hook (see `registry.local_store.pause_point`): publish sleeps at this named point.
PAUSE_ENV = "LEARNERHUB_TEST_PAUSE_AT"

MAIN_BRANCH = "main"
TAG_PREFIX = "v"


def default_store_path() -> Path:
    """`$LEARNERHUB_STORE` when it is a path, else `LEARNERHUB_HOME/store`."""
    configured = os.environ.get(STORE_ENV)
    if configured and not configured.startswith(("http://", "https://")):
        return Path(configured).expanduser()
    return learner_constants.LEARNERHUB_HOME / "store"


def default_cache_dir() -> Path:
    """Where pulled versions of a local store are checked out: `LEARNERHUB_HOME/cache/learners`."""
    return learner_constants.LEARNERHUB_HOME / "cache" / "learners"
