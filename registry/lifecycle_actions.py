"""Yank, un-yank, delete and alias published versions: the registry API behind `learnerhub yank/delete/alias`.

Each action is one event appended to the repository's lifecycle log (`registry.lifecycle`) with who,
when and why; the store then makes its refs follow. Every store (local, endpoint, the Hub) does the same.

Example:
    >>> import registry
    >>> registry.yank("local/igf-smollm2-135m-instruct-kjv@1.1.0", reason="trained on a leaked test set")
    >>> registry.set_alias("local/igf-smollm2-135m-instruct-kjv", "production", "1.0.0")
    >>> registry.pull("kjv", base_model="smollm2", version="production")
"""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

from .errors import InvalidVersionError, LifecycleError
from .lifecycle import Lifecycle, LifecycleEvent, check_alias_name
from .naming import LearnerReference
from .store_choice import open_store
from .versions import parse_release


def who() -> str:
    """`user@host`: who the audit line names when the caller does not say."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _versioned(reference: str, action: str) -> tuple[str, str]:
    parsed = LearnerReference.parse(reference)
    if parsed.version is None:
        raise InvalidVersionError(f"{action} needs one exact version: write ORG/NAME@X.Y.Z, "
                                  f"e.g. {parsed.repo_id}@1.0.0.")
    return parsed.repo_id, str(parse_release(parsed.version))


def _version_event(action: str, reference: str, reason: str, by: str | None, store, endpoint, token, *,
                   reason_needed: str | None = None) -> Lifecycle:
    """Record `action` on the exact version `reference` names; `reason_needed` is the error when the reason
    is required and empty."""
    if reason_needed and not reason.strip():
        raise LifecycleError(reason_needed)
    repo_id, version = _versioned(reference, action)
    event = LifecycleEvent(action, version, reason.strip(), by=by or who())
    return open_store(store, endpoint=endpoint, token=token).record(repo_id, event)


def yank(reference: str, *, reason: str, by: str | None = None, store: str | Path | None = None,
         endpoint: str | None = None, token: str | None = None) -> Lifecycle:
    """Yank `ORG/NAME@X.Y.Z`: never chosen by a range or as latest again, still pulled by an exact pin."""
    return _version_event("yank", reference, reason, by, store, endpoint, token,
                          reason_needed="Say why the version is yanked (--reason): the reason shows on its card, "
                                        "page and info.")


def unyank(reference: str, *, reason: str = "", by: str | None = None, store: str | Path | None = None,
           endpoint: str | None = None, token: str | None = None) -> Lifecycle:
    """Undo a yank: the version may be chosen by ranges and as latest again."""
    return _version_event("unyank", reference, reason, by, store, endpoint, token)


def delete_version(reference: str, *, reason: str, by: str | None = None, store: str | Path | None = None,
                   endpoint: str | None = None, token: str | None = None) -> Lifecycle:
    """Delete `ORG/NAME@X.Y.Z`: its tag goes (pins of it stop resolving) and its number is never reused."""
    return _version_event("delete", reference, reason, by, store, endpoint, token,
                          reason_needed="Say why the version is deleted (--reason): the audit line keeps it.")


def set_alias(repo_id: str, alias: str, version: str, *, reason: str = "", by: str | None = None,
              store: str | Path | None = None, endpoint: str | None = None, token: str | None = None) -> Lifecycle:
    """Point `alias` (`production`, `staging`, ...) of `ORG/NAME` at `version` (creating or moving it)."""
    repo_id = LearnerReference.parse(repo_id).repo_id
    event = LifecycleEvent("alias", str(parse_release(version)), reason.strip(), alias=check_alias_name(alias),
                           by=by or who())
    return open_store(store, endpoint=endpoint, token=token).record(repo_id, event)


def remove_alias(repo_id: str, alias: str, *, reason: str = "", by: str | None = None,
                 store: str | Path | None = None, endpoint: str | None = None, token: str | None = None) -> Lifecycle:
    """Remove `alias` of `ORG/NAME`."""
    repo_id = LearnerReference.parse(repo_id).repo_id
    opened = open_store(store, endpoint=endpoint, token=token)
    current = opened.lifecycle(repo_id).aliases
    if alias not in current:
        shown = ", ".join(f"{a} -> {v}" for a, v in sorted(current.items())) or "none"
        raise LifecycleError(f"{repo_id} has no alias {alias!r} (aliases: {shown}).")
    event = LifecycleEvent("unalias", current[alias], reason.strip(), alias=alias, by=by or who())
    return opened.record(repo_id, event)


def lifecycle(repo_id: str, *, store: str | Path | None = None, endpoint: str | None = None,
              token: str | None = None) -> Lifecycle:
    """The repository's yanks, deletions, aliases and audit lines."""
    return open_store(store, endpoint=endpoint, token=token).lifecycle(LearnerReference.parse(repo_id).repo_id)
