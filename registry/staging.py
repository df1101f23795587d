"""Turn a learner folder into exactly the files one version publishes, identical for every store.

config.json, model.safetensors, learner.json, the rendered README.md, assets/* and the manifest of
their sha256: staged in a private folder first, so that nothing half-written is ever published.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from cards.format.identity import LearnerIdentity
from cards.format.constants import CONFIG_FILE, LEARNER_FILE, WEIGHTS_FILE
from cards.format.metadata import LearnerMetadata
from cards.model_card.folder_card import safetensors_header, write_folder_card
from cards.format.constants import ASSETS_DIR
from .constants import is_hosting_file
from .errors import RegistryError
from .manifest import Manifest
from cards.format.naming import learner_repository_name
from .naming import check_org
from .version_gate import learner_identity
from .versions import parse_release



class NotALearnerFolderError(RegistryError, FileNotFoundError):
    """The folder to publish lacks one of the files a learner is made of."""


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
