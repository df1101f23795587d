"""The few git operations the local store needs, through the `git` command and plain file reads.

Refs are read from the files directly (loose refs, then packed-refs) because that is what keeps a
warm pull and the index check free of subprocesses; everything that writes goes through git.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import StoreError

ZERO_SHA = "0" * 40
_IDENTITY = {"GIT_AUTHOR_NAME": "learnerhub", "GIT_AUTHOR_EMAIL": "learnerhub@localhost",
             "GIT_COMMITTER_NAME": "learnerhub", "GIT_COMMITTER_EMAIL": "learnerhub@localhost"}


class GitCommandError(StoreError):
    """A git command failed; `stderr` holds git's own words."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


#: A store repository is data, never code: no hooks, no replace objects (one commit id, one content), no
#: fsmonitor, signature check (gpg.program) or other command a repository-local config could name. Filters
#: and attributes are never applied either: files are written with `--no-filters` and read by blob id
#: (`registry.local.git_export`), never through `git archive` or a checkout.
_SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.sshCommand=false",
                "-c", "protocol.allow=never", "-c", "log.showSignature=false")


def git(repository: Path, *args: str, input: bytes | None = None, env: dict | None = None) -> bytes:
    """Run `git --git-dir=repository args...` and return its stdout; raise GitCommandError on failure."""
    environment = {**os.environ, **_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                   "GIT_NO_REPLACE_OBJECTS": "1", "GIT_CONFIG_GLOBAL": os.devnull, **(env or {})}
    try:
        completed = subprocess.run(["git", *_SAFE_CONFIG, f"--git-dir={repository}", *args], input=input,
                                   env=environment,
                                   capture_output=True, check=False)
    except FileNotFoundError:
        raise StoreError("The local store needs the `git` command; install git (e.g. apt-get install git).") from None
    if completed.returncode != 0:
        stderr = completed.stderr.decode(errors="replace").strip()
        raise GitCommandError(f"git {args[0]} failed in {repository}: {stderr}", stderr)
    return completed.stdout


def init_bare(repository: Path) -> None:
    """A bare repository with `main` as its default branch and no sample hooks."""
    completed = subprocess.run(["git", "init", "--quiet", "--bare", "--template=", "--initial-branch=main",
                                str(repository)], capture_output=True, check=False)
    if completed.returncode != 0:
        raise StoreError(f"git init failed in {repository}: {completed.stderr.decode(errors='replace').strip()}")


def read_refs(repository: Path, prefix: str = "refs/") -> dict[str, str]:
    """Every ref under `prefix` -> the object it points to; loose refs take precedence over packed ones."""
    refs: dict[str, str] = {}
    try:
        packed_lines = (repository / "packed-refs").read_text().splitlines()
    except FileNotFoundError:
        packed_lines = []
    if packed_lines:
        for line in packed_lines:
            if line and line[0] not in "#^":
                sha, _, name = line.partition(" ")
                if name.startswith(prefix):
                    refs[name] = sha
    root = repository / prefix
    if root.is_dir():
        for directory, _, files in os.walk(root):
            for file in files:
                if file.endswith(".lock"):
                    continue
                path = Path(directory, file)
                try:
                    sha = path.read_text().strip()
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    continue   # deleted (or packed) by a concurrent writer between the listing and the read
                if len(sha) >= 40 and not sha.startswith("ref:"):
                    refs[path.relative_to(repository).as_posix()] = sha
    return refs


def refs_signature(repository: Path) -> str:
    """Changes whenever a ref of the repository is created, moved or packed (mtimes of the ref stores)."""
    parts = []
    for relative in ("refs/heads", "refs/tags", "packed-refs"):
        try:
            parts.append(str(os.stat(repository / relative).st_mtime_ns))
        except FileNotFoundError:
            parts.append("-")
    return ":".join(parts)


def write_tree(repository: Path, folder: Path) -> str:
    """Write every file of `folder` as git objects (one `hash-object`), return the root tree's sha."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    blobs = git(repository, "hash-object", "-w", "--no-filters", "--stdin-paths",
                input="".join(f"{p}\n" for p in files).encode()).decode().split()
    return write_tree_entries(repository, {path.relative_to(folder).as_posix(): ("100644", blob)
                                           for path, blob in zip(files, blobs)})


def write_tree_entries(repository: Path, entries: dict[str, tuple[str, str]]) -> str:
    """Write the trees holding `entries` (posix path -> (mode, blob sha)), return the root tree's sha.

    Shared by publishing (files of a folder) and Hub commits (a parent tree plus changes).
    """
    trees: dict[str, list[str]] = {"": []}
    for relative, (mode, blob) in sorted(entries.items()):
        parent, _, name = relative.rpartition("/")
        trees.setdefault(parent, []).append(f"{mode} blob {blob}\t{name}")
        while parent:
            parent = parent.rpartition("/")[0]
            trees.setdefault(parent, [])
    for directory in sorted((d for d in trees if d), key=lambda d: -d.count("/")):
        tree = git(repository, "mktree", input="".join(f"{e}\n" for e in trees[directory]).encode()).decode().strip()
        parent, _, name = directory.rpartition("/")
        trees.setdefault(parent, []).append(f"040000 tree {tree}\t{name}")
    return git(repository, "mktree", input="".join(f"{e}\n" for e in trees[""]).encode()).decode().strip()
