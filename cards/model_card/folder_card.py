"""A learner folder's README.md: the model card rendered from its learner.json, with the numbers only its
files hold (the head's parameter count, read from the safetensors header without torch; the assets/ plots).

Why here, below the library and the store: `Learner.save` writes the card of a built learner and `publish`
the card of a version, and both must say the same.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from ..format.constants import ASSETS_DIR, CONFIG_FILE, WEIGHTS_FILE
from ..format.errors import NotSafetensorsError
from ..format.metadata import LearnerMetadata
from .render import render_card, write_card

PLOT_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
MAX_HEADER_BYTES = 100 << 20   # the safetensors library's own bound


def write_folder_card(folder: Path, metadata: LearnerMetadata, *, repo_id: str, version: str | None) -> None:
    """README.md for a learner folder, showing its assets/ plots; version None: built, not yet published."""
    plots = []
    if (folder / ASSETS_DIR).is_dir():
        plots = sorted(p.relative_to(folder).as_posix() for p in (folder / ASSETS_DIR).rglob("*")
                       if p.suffix.lower() in PLOT_SUFFIXES)
    write_card(folder, render_card(metadata, repo_id=repo_id, version=version, plots=plots,
                                   parameters=count_parameters(folder / WEIGHTS_FILE), head=head_type(folder)))


def head_type(folder: Path) -> str | None:
    """config.json's `head` (which IGF head the card names), or None when it says none."""
    try:
        head = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")).get("head")
    except (OSError, ValueError, AttributeError):
        return None
    return head if isinstance(head, str) else None


def safetensors_header(weights: Path) -> dict:
    """The JSON header of a safetensors file, read with bounds (its 8-byte length is checked against the file's
    size before anything is read); NotSafetensorsError for anything else, e.g. a pickle (never unpickled)."""
    size = weights.stat().st_size
    with weights.open("rb") as handle:
        prefix = handle.read(8)
        length = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else -1
        if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
            raise NotSafetensorsError(f"{weights} is not a safetensors file (its first 8 bytes do not give the length "
                                      "of a header it holds; a pickle or torch.save file looks like this). learnerhub "
                                      "loads safetensors only and never unpickles: save the head with safetensors "
                                      "(`learnerhub build` and Learner.save write one).")
        try:
            header = json.loads(handle.read(length))
        except (ValueError, RecursionError):
            header = None
    if not isinstance(header, dict):
        raise NotSafetensorsError(f"{weights} is not a safetensors file (its header is not a JSON object); "
                                  "save the head with safetensors (`learnerhub build` and Learner.save write one).")
    return header


def count_parameters(weights: Path) -> int | None:
    """Number of values in a safetensors file, from its header alone (no torch needed); None when unreadable."""
    try:
        header = safetensors_header(weights)
        return sum(math.prod(entry["shape"]) for key, entry in header.items() if key != "__metadata__")
    except (OSError, NotSafetensorsError, TypeError, KeyError):
        return None
