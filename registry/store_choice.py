"""How a store is chosen: a Hub-compatible endpoint or a local folder, from arguments or the environment.

Apart from the protocol (`store.py`) so that the implementations can import the protocol without an
import cycle. The implementations are imported when chosen: `import registry` stays fast (no
huggingface_hub import for a local store).
"""

from __future__ import annotations

import os
from pathlib import Path

from .constants import STORE_ENV, default_store_path
from .store import Store


def open_store(store: str | Path | None = None, *, endpoint: str | None = None, token: str | None = None,
               cache_dir: str | Path | None = None) -> Store:
    """The store to use: `endpoint` (or an http(s) `store`) is a Hub-compatible server, else a local folder.

    With neither, `$LEARNERHUB_STORE` (a path or a URL) or `LEARNERHUB_HOME/store`.

    Example:
        >>> open_store("/data/learners")                       # local git store
        >>> open_store(endpoint="https://huggingface.co")      # the Hub (token from HF_TOKEN or hf login)
    """
    if endpoint is None and store is None and os.environ.get(STORE_ENV, "").startswith(("http://", "https://")):
        endpoint = os.environ[STORE_ENV]
    if endpoint is None and isinstance(store, str) and store.startswith(("http://", "https://")):
        endpoint, store = store, None
    if endpoint is not None:
        from .hub.store import HubStore

        return HubStore(endpoint, token=token, cache_dir=cache_dir)
    from .local.store import LocalStore

    return LocalStore(Path(store).expanduser() if store is not None else default_store_path(), cache_dir=cache_dir)
