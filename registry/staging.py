"""Turn a learner folder into exactly the files one version publishes, identical for every store.

config.json, model.safetensors, learner.json, the rendered README.md, assets/* and the manifest of
their sha256: staged in a private folder first, so that nothing half-written is ever published.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from .format.identity import LearnerIdentity
from .format.constants import CONFIG_FILE, LEARNER_FILE, WEIGHTS_FILE
from .format.metadata import LearnerMetadata
from .model_card.render import render_card, write_card
from .constants import ASSETS_DIR, is_hosting_file
from .errors import RegistryError
from .manifest import Manifest
from .naming import check_org, learner_repository_name
from .version_gate import learner_identity
from .versions import parse_release

PLOT_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
MAX_HEADER_BYTES = 100 << 20   # the safetensors library's own bound


class NotALearnerFolderError(RegistryError, FileNotFoundError):
    """The folder to publish lacks one of the files a learner is made of."""


class NotSafetensorsError(RegistryError, ValueError):
    """model.safetensors is something else (a pickle, a torch.save zip): refused, never unpickled."""


class NotARegularFileError(NotALearnerFolderError):
    """The folder to publish holds a symlink (or a device, a pipe...): following it would publish a file from
    outside the folder, e.g. `assets/x.png -> /etc/passwd`."""


def _asset_files(source: Path) -> list[Path]:
    """Every entry under assets/ (a symlinked folder included, never followed); hosting files left out."""
    assets = source / ASSETS_DIR
    if not os.path.lexists(assets):
        return []
    if assets.is_symlink() or not assets.is_dir():
        return [assets]
    found = []
    for directory, folders, names in os.walk(assets):
        found += [Path(directory, name) for name in folders if Path(directory, name).is_symlink()]
        found += [Path(directory, name) for name in names if not is_hosting_file(name)]
    return sorted(found)


def _check_regular(path: Path) -> None:
    """NotARegularFileError naming `path` unless it is a regular file (a symlink is not, whatever it names)."""
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        what = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
        raise NotARegularFileError(f"{path} is {what}; a learner folder publishes regular files only (a link could "
                                   "publish a file from outside it): replace it with the file itself, or remove it.")


@dataclass(frozen=True)
class StagedLearner:
    """A staged version: its files in `folder`, where it goes (`repo_id`) and what it is."""

    folder: Path
    metadata: LearnerMetadata
    org: str
    name: str
    version: str
    manifest: Manifest

    @property
    def repo_id(self) -> str:
        return f"{self.org}/{self.name}"

    @property
    def identity(self) -> LearnerIdentity:
        """One repository holds one identity."""
        return learner_identity(self.metadata)


def stage_learner(source: Path, workdir: Path, *, version: str, org: str) -> StagedLearner:
    """Copy `source`'s learner files into `workdir` (which must be empty), add the card and the manifest."""
    source = Path(source)
    version = str(parse_release(version))
    check_org(org)
    missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE, LEARNER_FILE) if not os.path.lexists(source / name)]
    if missing:
        raise NotALearnerFolderError(f"{source} is not a learner folder: {', '.join(missing)} missing. Publish the "
                                     "folder written by `learnerhub build` (or InformationGainLearner.save).")
    files = [*(source / name for name in (CONFIG_FILE, WEIGHTS_FILE, LEARNER_FILE)), *_asset_files(source)]
    for path in files:
        _check_regular(path)
    safetensors_header(source / WEIGHTS_FILE)
    metadata = LearnerMetadata.load(source)
    name = learner_repository_name(metadata)
    for path in files:
        target = workdir / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target, follow_symlinks=False)
    write_folder_card(workdir, metadata, repo_id=f"{org}/{name}", version=version)
    manifest = Manifest.of_folder(workdir, repo_id=f"{org}/{name}", version=version)
    manifest.write(workdir)
    return StagedLearner(workdir, metadata, org, name, version, manifest)


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
