"""Validation of what a request names: repository ids, file paths in a repository, revisions, tags.

Everything a client sends is checked before it reaches the file system or git, so that no request can
name a folder outside `<store>/models/` or write a path git would refuse (`..`, absolute, `.git`).
"""

from __future__ import annotations

import re

from .errors import unprocessable

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
MAX_PATH_LENGTH = 1024
#: Organisations whose URLs would collide with this server's routes or the Hub's namespaces
#: (`/api/...`, `/models/...`, `/learners/...`): a repository there could not be addressed.
RESERVED_ORGS = frozenset({"api", "models", "datasets", "spaces", "learners", "leaderboard", "docs", "redoc",
                           "static", "openapi.json", "resolve", "new", "settings"})


def check_repo_id(org: str, name: str) -> str:
    """`org/name`, each part letters, digits, '.', '_' or '-' (not '..', not ending in .git or .lock)."""
    for part in (org, name):
        if not _NAME.match(part) or ".." in part or part.endswith((".git", ".lock")):
            raise unprocessable(f"Invalid repository name {org}/{name}: use ORG/NAME with letters, digits, '.', "
                                "'_' or '-' (at most 96 characters each, no '..').")
    return f"{org}/{name}"


def check_new_repo_id(org: str, name: str) -> str:
    """`check_repo_id` for a repository about to be created: reserved organisations are refused too."""
    repo_id = check_repo_id(org, name)
    if org.lower() in RESERVED_ORGS:
        raise unprocessable(f"Organisation {org!r} is reserved (its URLs are the server's own routes): choose "
                            "another organisation.")
    return repo_id


def check_file_path(path: str) -> str:
    """A relative posix path inside the repository, without '..', '.', empty parts or a `.git` part."""
    parts = path.split("/")
    if (not path or len(path) > MAX_PATH_LENGTH or path.startswith("/") or "\\" in path
            or any(ord(c) < 32 or c == "\x7f" for c in path) or not _is_utf8(path)
            or any(part in {"", ".", ".."} or part.lower() == ".git" for part in parts)):
        raise unprocessable(f"Invalid file path {path!r}: paths are relative (no leading '/'), use '/' between "
                            "folders, and contain no '..', '.', empty or '.git' parts.")
    return path


def _is_utf8(text: str) -> bool:
    """False for strings holding lone surrogates (JSON `"\\ud800"`): git and the file system cannot store them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_ref_name(name: str, *, what: str = "tag") -> str:
    if not _REF.match(name) or ".." in name or name.endswith(".lock"):
        raise unprocessable(f"Invalid {what} name {name!r}: use letters, digits, '.', '_', '+' or '-'.")
    return name
