"""Where things are in a local store's folder, known here only (see `registry.local.store` for why this layout).

    <store>/models/<org>/<name>/                     bare git repository of one learner
    <store>/models/<org>/<name>/learnerhub-private   marker: the server shows the repository only with a token
    <store>/.learnerhub/                             listing index and other state (caches of the server)
    <store>/.tmp/                                    scratch space of writes in progress
"""

from __future__ import annotations

import tempfile
from pathlib import Path

MODELS_DIR = "models"
STATE_DIR = ".learnerhub"
SCRATCH_DIR = ".tmp"
#: In the bare repository's folder: git ignores it, and it moves (or goes) with the repository.
PRIVATE_MARKER = "learnerhub-private"


class StoreLayout:
    """The paths of the store at `root`; nothing here touches git."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.models = self.root / MODELS_DIR
        self.state = self.root / STATE_DIR
        self.scratch = self.root / SCRATCH_DIR

    def create(self) -> None:
        """Make the store's folder and models/ if missing (a server can serve an empty store)."""
        self.models.mkdir(parents=True, exist_ok=True)

    def repository(self, repo_id: str) -> Path:
        """Where `repo_id`'s bare repository is (or would be); the caller has validated the id."""
        return self.models / repo_id

    def exists(self, repo_id: str) -> bool:
        return (self.models / repo_id / "HEAD").is_file()

    def repository_ids(self, org: str | None = None) -> list[str]:
        """Every repository of the store (of `org`), sorted; folders that are not repositories are skipped."""
        if not self.models.is_dir():
            return []
        return sorted(f"{o.name}/{r.name}" for o in self.models.iterdir()
                      if o.is_dir() and not o.name.startswith(".") and (org is None or o.name == org)
                      for r in o.iterdir() if (r / "HEAD").is_file())

    def state_file(self, name: str) -> Path:
        """A file of state kept beside the listing index (e.g. a cache a server keeps across restarts)."""
        return self.state / name

    def scratch_folder(self, prefix: str) -> Path:
        """A new private folder in .tmp/, on the store's file system (so that renames out of it are atomic)."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.scratch))

    def private_marker(self, repo_id: str) -> Path:
        return self.models / repo_id / PRIVATE_MARKER

    def private_repositories(self) -> set[str]:
        """Every private repository id of the store (one glob: markers are rare)."""
        return {f"{marker.parent.parent.name}/{marker.parent.name}"
                for marker in self.models.glob(f"*/*/{PRIVATE_MARKER}")}
