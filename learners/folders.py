"""Write a learner folder so that readers never see half of it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


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
