"""`learnerhub.manifest.json`: the sha256 of every published file, checked on every load.

Published inside the repository (so the commit sha pins it) and recorded in the lock file, it lets
a pull refuse a file that was tampered with or corrupted in the store or in the cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .constants import MANIFEST_FILE
from .errors import IntegrityError

MANIFEST_FORMAT = 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """Relative path (posix) -> sha256 of each file of one published version."""

    files: dict[str, str]
    repo_id: str
    version: str

    @classmethod
    def of_folder(cls, folder: Path, *, repo_id: str, version: str) -> Manifest:
        files = {path.relative_to(folder).as_posix(): sha256_of(path)
                 for path in sorted(folder.rglob("*")) if path.is_file() and path.name != MANIFEST_FILE}
        return cls(files, repo_id, version)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str) -> Manifest:
        try:
            data = json.loads(text)
            return cls(dict(data["files"]), data["repo_id"], data["version"])
        except (ValueError, KeyError, TypeError, RecursionError):
            raise IntegrityError(f"{source} is not a valid learnerhub manifest; the learner is corrupted.") from None

    def to_json(self) -> str:
        data = {"format": MANIFEST_FORMAT, "repo_id": self.repo_id, "version": self.version, "files": self.files}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_FILE).write_text(self.to_json())

    def verify(self, folder: Path, *, expected: dict[str, str] | None = None) -> None:
        """Raise IntegrityError naming the first file whose sha256 differs (or is missing).

        `expected` (from a lock file) must agree with the manifest too.
        """
        if expected is not None and expected != self.files:
            changed = sorted(k for k in set(expected) | set(self.files) if expected.get(k) != self.files.get(k))
            raise IntegrityError(f"{self.repo_id}@{self.version} does not hold the files recorded in the lock file "
                                 f"(differs: {changed}). The store was changed after locking; pull without "
                                 "--locked to re-resolve, or restore the store.")
        problem = self.mismatch(folder)
        if problem:
            raise IntegrityError(f"{self.repo_id}@{self.version}: {problem} in {folder}. The file was tampered with or "
                                 f"corrupted; it was not loaded. Delete {folder} and pull again.")

    def mismatch(self, folder: Path) -> str | None:
        """What differs from the manifest in `folder` (the first file), or None when every file matches."""
        for name, recorded in self.files.items():
            path = folder / name
            if not path.is_file():
                return f"{name} is missing"
            actual = sha256_of(path)
            if actual != recorded:
                return f"{name} has sha256 {actual[:16]}..., but {recorded[:16]}... was published"
        return None
