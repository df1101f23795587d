"""How a learner reaches a store without this package importing one: the store package plugs in.

`Learner.push_to_hub(...)` and `load_learner("org/name@1.2", model, tokenizer)` need a store, which is
the registry's business, a package above this one. The registry declares its plugin in the
`learnerhub.stores` entry-point group (pyproject.toml); it is loaded on first use, the way pytest finds
its plugins, so users import nothing more and the dependency still points one way (registry -> learners).
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path
from typing import Any, Protocol

from registry.format.errors import LearnerHubError

ENTRY_POINT_GROUP = "learnerhub.stores"
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[^/@\s]+)?$")


class StorePlugin(Protocol):
    """What a store package offers learners: publish a saved folder, fetch a published version."""

    def publish_folder(self, folder: Path, *, version: str, repo_id: str | None, store: str | Path | None,
                       endpoint: str | None, token: str | None) -> Any:
        """Publish the learner folder as `version` (of `repo_id` ORG or ORG/NAME, when given)."""

    def fetch_reference(self, reference: str, *, store: str | Path | None, endpoint: str | None, token: str | None,
                        cache_dir: str | Path | None) -> Path:
        """A verified local folder holding `ORG/NAME[@VERSION]`."""


_plugin: StorePlugin | None = None


def register_store_plugin(plugin: StorePlugin) -> None:
    """Use `plugin` (instead of the installed entry point), e.g. for another store package."""
    global _plugin
    _plugin = plugin


def store_plugin() -> StorePlugin:
    """The store plugin: the registered one, else the first of the `learnerhub.stores` entry points."""
    global _plugin
    if _plugin is None:
        found = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        if not found:
            raise LearnerHubError("No learner store is installed (entry point group learnerhub.stores): install "
                                  "learnerhub with pip (`pip install -e .` in a checkout) to publish or pull by name.")
        _plugin = found[0].load()
    return _plugin


def is_reference(text: str) -> bool:
    """Whether `text` names a published learner (`ORG/NAME` or `ORG/NAME@VERSION`) rather than a folder."""
    return bool(_REFERENCE.match(text)) and not Path(text).exists()
