"""The one publish protocol every writer follows (local store, server, Hub endpoint), and its repairs.

1. The version's commit is built on the current `main` (objects first: unreachable until a ref moves).
2. Its tag `v<version>` is created, "must not exist": from this single ref update on, the version is
   published, complete; before it, absent. A race for one version has one winner.
3. `main` advances to the newest (highest) published version: compare-and-swap, retried, and never to an older
   version (publishing 1.0.1 after 2.0.0 leaves `main` on 2.0.0, which is what `hf download` fetches).
   Versions the lifecycle log (`registry.lifecycle`) yanks or deletes do not count: yanking the newest
   version moves `main` back to the newest one left.

A writer killed between 2 and 3 leaves `main` one version behind; the next publish repairs it
(`advance_main`) before doing anything else, and removes ref locks that a git process killed inside
its own transaction left behind (`clear_stale_locks`: only locks old enough that no live git holds them).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from packaging.version import Version

from .constants import MAIN_BRANCH
from .errors import StoreError
from .local.git import ZERO_SHA, GitCommandError, git, read_refs
from .lifecycle import Lifecycle
from .local.lifecycle_log import LIFECYCLE_REF, read_lifecycle
from .versions import latest_of, version_of_tag

MAIN_REF = f"refs/heads/{MAIN_BRANCH}"
STALE_LOCK_SECONDS = 120       # git holds a ref lock for milliseconds; one this old belongs to a dead process
MAX_MAIN_ATTEMPTS = 50


def published_versions(refs: dict[str, str], lifecycle: Lifecycle | None = None) -> dict[Version, str]:
    """Version -> commit of every canonical version tag among `refs` (full ref names) that `main` may hold:
    with a `lifecycle`, the yanked and deleted ones are left out."""
    found = {}
    for ref, sha in refs.items():
        if ref.startswith("refs/tags/"):
            version = version_of_tag(ref.removeprefix("refs/tags/"))
            if version is not None:
                found[str(version)] = sha
    if lifecycle is not None:
        found = lifecycle.choosable(found)
    return {Version(v): sha for v, sha in found.items()}


def newest(versions) -> Version | None:
    """The version `main` holds: the one readers call latest (`latest_of`: a pre-release never moves main
    past or beside a release)."""
    return latest_of(list(versions))


def clear_stale_locks(repository: Path, *, older_than: float = STALE_LOCK_SECONDS) -> list[Path]:
    """Remove ref lock files (`refs/**.lock`, `HEAD.lock`, `packed-refs.lock`) older than `older_than` seconds,
    unless a live git process on this machine works on the repository (then none is stale)."""
    candidates = ref_locks(repository)
    if not candidates or git_running_on(repository):
        return []
    removed = []
    now = time.time()
    for lock in candidates:
        try:
            if now - lock.stat().st_mtime > older_than:
                lock.unlink()
                removed.append(lock)
        except FileNotFoundError:
            continue
    return removed


def ref_locks(repository: Path) -> list[Path]:
    """The ref lock files of `repository` (`refs/**.lock`, `HEAD.lock`, `packed-refs.lock`) that exist now."""
    candidates = [repository / "HEAD.lock", repository / "packed-refs.lock"]
    for directory, _, files in os.walk(repository / "refs"):
        candidates += [Path(directory, name) for name in files if name.endswith(".lock")]
    return [lock for lock in candidates if lock.exists()]


def git_running_on(repository: Path) -> bool:
    """Whether a live process on this machine runs git on `repository` (learnerhub passes `--git-dir=PATH`);
    False where /proc cannot tell (then only the age of a lock says it is stale)."""
    wanted = f"--git-dir={repository}".encode()
    try:
        processes = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return False
    for process in processes:
        try:
            if wanted in (process / "cmdline").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue   # ended meanwhile, or not ours to read
    return False


def fresh_lock_hint(repository: Path) -> str:
    """Sentences naming the lock files that block ref updates and how to clear them, for a blocked writer's error."""
    locks = ref_locks(repository)
    if not locks:
        return ""
    paths = " ".join(f"'{lock}'" for lock in locks)
    return (f" Lock files block it ({', '.join(str(p.relative_to(repository)) for p in locks)}): a git killed while "
            f"writing leaves them, and they are cleared after {STALE_LOCK_SECONDS} s when no git runs on the "
            f"repository. If no publish, yank or server write is running on it, clear them now: rm {paths}")


def advance_main(repository: Path) -> str | None:
    """Move `main` forward to the newest published version's commit if it lags behind; return main's commit.

    Only a lagging `main` moves: one on an ancestor of that commit (a kill between steps 2 and 3) or on
    another version's commit (a lost race, a yanked or deleted version). A `main` holding other commits on
    top of the newest version (a Hub commit of a README) is left alone.
    """
    last_error = "main kept moving"
    for attempt in range(MAX_MAIN_ATTEMPTS):
        refs = read_refs(repository)
        lifecycle = read_lifecycle(repository, refs) if LIFECYCLE_REF in refs else None
        versions = published_versions(refs, lifecycle)
        target_version = newest(versions)
        main = refs.get(MAIN_REF)
        if target_version is None or main == versions[target_version]:
            return main
        target = versions[target_version]
        version_commits = {*published_versions(refs).values(), *(lifecycle.deleted.values() if lifecycle else ())}
        if main is not None and main not in version_commits and not _is_ancestor(repository, main, target):
            return main
        # One transaction with the log's head verified: a yank appended meanwhile (whose own settle may already
        # have run) makes this move fail and be recomputed, so main never ends on a version just yanked.
        log_head = refs.get(LIFECYCLE_REF) or ZERO_SHA
        try:
            git(repository, "update-ref", "--stdin",
                input=f"update {MAIN_REF} {target} {main or ZERO_SHA}\nverify {LIFECYCLE_REF} {log_head}\n".encode())
            return target
        except GitCommandError as error:
            # a lost race (main moved: re-read), or another writer's lock: wait a little
            last_error = " ".join(error.stderr.split())
            clear_stale_locks(repository)
            time.sleep(backoff(attempt))
    raise StoreError(f"Cannot move main of {repository} forward: {last_error}.{fresh_lock_hint(repository)}")


def backoff(attempt: int) -> float:
    """Seconds to wait before retry `attempt` of a ref update that met another writer (about 4 s over 50)."""
    return min(0.005 * 2 ** attempt, 0.1)


def _is_ancestor(repository: Path, ancestor: str, descendant: str) -> bool:
    try:
        git(repository, "merge-base", "--is-ancestor", ancestor, descendant)
        return True
    except GitCommandError:
        return False
