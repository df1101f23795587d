"""How the library reaches a learner store (`Learner.push_to_hub`, `load_learner("ORG/NAME@1.0")`) without
depending on one.

Why: the store (`registry`: versions, manifests, the Hub protocol) is built on this library's learners, so
the library must not import it. A store offers itself instead: it registers itself when imported
(`import registry` does), and an installed one is found as an entry point of the group
`learnerhub.learner_stores` (this project's `registry.learner_store`, named in pyproject.toml), as fsspec finds
its filesystems, so `from learners import load_learner` alone can load `ORG/NAME@1.0`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from cards.format.errors import LearnerHubError

ENTRY_POINT_GROUP = "learnerhub.learner_stores"
#: The store this project ships, preferred when several are installed.
DEFAULT_STORE = "registry"


class LearnerStoreAccess(Protocol):
    """What the library needs from a store: a verified local folder of a published learner, and publishing one."""

    def fetch_folder(self, reference: str, *, store: str | Path | None = None, endpoint: str | None = None,
                     token: str | None = None, cache_dir: str | Path | None = None) -> Path: ...

    def push_folder(self, folder: Path, *, version: str, repo_id: str | None = None,
                    store: str | Path | None = None, endpoint: str | None = None, token: str | None = None) -> Any: ...


class NoLearnerStoreError(LearnerHubError):
    """No package offers a learner store (the install lacks learnerhub's `registry`)."""


_registered: LearnerStoreAccess | None = None


def register_learner_store(access: LearnerStoreAccess) -> None:
    """Make `access` the store the library pushes to and pulls from (a store calls this when imported)."""
    global _registered
    _registered = access


def learner_store() -> LearnerStoreAccess:
    """The registered learner store, else the installed one (learnerhub's own unless another is offered)."""
    if _registered is not None:
        return _registered
    from importlib.metadata import entry_points   # here: a registered store never pays for reading metadata

    offered = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    if not offered:
        raise NoLearnerStoreError(f"No learner store is registered or installed (entry point group "
                                  f"{ENTRY_POINT_GROUP!r}): `import registry` first, or install learnerhub "
                                  "(`make setup`), or load the learner from a local folder.")
    module = offered.get(DEFAULT_STORE, next(iter(offered.values()))).load()   # learnerhub's registers itself
    if _registered is None:   # a store that does not register itself on import
        register_learner_store(module)
    return _registered or module
