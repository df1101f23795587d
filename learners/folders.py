"""Write a learner folder so that readers never see half of it, and carry its assets/ (plots) along."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from cards.format.errors import LearnerFormatError

#: Where a learner folder keeps its plots and other files for the card (published with the learner).
ASSETS_FOLDER = "assets"


def write_folder_atomically(folder: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(staging)` on a fresh folder beside `folder`, then put it in `folder`'s place.

    A crash while writing leaves `folder` as it was (only a hidden staging folder behind).
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write(staging)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def copy_assets(source: Path, target: Path) -> None:
    """Copy `source`/assets/ into `target`/assets/: regular files only, since a link (or a device, a pipe) could
    publish a file from outside the folder; one is refused with a LearnerFormatError that names it."""
    assets = source / ASSETS_FOLDER
    if not os.path.lexists(assets):
        return
    found = [assets] if assets.is_symlink() or not assets.is_dir() else \
        [Path(directory, name) for directory, folders, names in os.walk(assets) for name in (*folders, *names)]
    for path in sorted(found):
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            raise LearnerFormatError(f"{path} is {'a symlink' if stat.S_ISLNK(mode) else 'not a regular file'}; a "
                                     "learner folder publishes regular files only: replace it with the file itself, "
                                     "or remove it.")
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
