"""`learnerhub.lock`: exactly what a pull resolved, so that `--locked` gets the same bytes again.

One entry per request (kind, corpus, base model): the repository, version, commit sha and the sha256 of
every file. Written atomically; entries for other requests are kept.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from cards.format.constants import ANY_BASE_MODEL
from cards.format.identity import LearnerIdentity
from .errors import LockFileError

LOCKFILE_VERSION = 1


@dataclass(frozen=True)
class LockedLearner:
    kind: str
    corpus: str
    base_model: str
    repo_id: str
    version: str
    commit: str
    files: dict[str, str]
    store: str

    @property
    def identity(self) -> LearnerIdentity:
        """The learner this entry pins (its base model `any` read as none)."""
        return LearnerIdentity(self.kind, self.corpus, None if self.base_model == ANY_BASE_MODEL else self.base_model)

    def request(self) -> tuple[str, str, str]:
        return self.identity.key()


def read_lock(path: Path) -> list[LockedLearner]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
        if data.get("lockfile_version") != LOCKFILE_VERSION:
            raise LockFileError(f"{path} has lockfile_version {data.get('lockfile_version')!r}; this learnerhub "
                                f"reads version {LOCKFILE_VERSION}.")
        return [LockedLearner(**entry) for entry in data["learners"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LockFileError(f"{path} is not a valid learnerhub lock file. Restore it from version control, or "
                            "delete it and pull without --locked to write a new one.") from None


def find_locked(path: Path, identity: LearnerIdentity) -> LockedLearner:
    for entry in read_lock(path):
        if entry.request() == identity.key():
            return entry
    raise LockFileError(f"{path} holds no {identity.kind!r} learner for corpus {identity.corpus!r} and base model "
                        f"{identity.base_model_name!r}. Pull once without --locked to record one.")


def record_lock(path: Path, entry: LockedLearner) -> None:
    """Add or replace `entry` in the lock file (atomically: a reader never sees half a file)."""
    entries = [e for e in read_lock(path) if e.request() != entry.request()] + [entry]
    entries.sort(key=LockedLearner.request)
    text = json.dumps({"lockfile_version": LOCKFILE_VERSION, "learners": [asdict(e) for e in entries]},
                      indent=2, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.replace(temporary, path)
