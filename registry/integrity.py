"""Checks a pull makes that need no trust in the store: the version is what was asked for.

File hashes (manifest.py) prove the files are the ones the manifest lists; these prove the manifest
and learner.json describe the request. Without them an empty manifest would pass, and a tag moved to
another version's or another repository's commit would load silently under the requested name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from cards.format.errors import LearnerFormatError
from cards.format.identity import LearnerIdentity
from cards.format.constants import CONFIG_FILE, LEARNER_FILE, WEIGHTS_FILE
from cards.format.metadata import checked_learner, checked_learner_json
from .constants import MANIFEST_FILE, is_hosting_file
from .errors import BrokenVersionError, IntegrityError
from .manifest import Manifest
from cards.format.naming import canonical_base_model

REQUIRED_FILES = (LEARNER_FILE, CONFIG_FILE, WEIGHTS_FILE)


def check_identity(manifest: Manifest, folder: Path, *, repo_id: str, version: str, identity: LearnerIdentity) -> None:
    """Raise IntegrityError unless the fetched version is `repo_id@version` of `identity` (its corpus matched by
    name or dataset id, its base model by id, alias or path, or none for a kind that works with any)."""
    where = f"{repo_id}@{version}"
    if (manifest.repo_id, manifest.version) != (repo_id, version):
        raise BrokenVersionError(f"{where}: its manifest describes {manifest.repo_id}@{manifest.version}. "
                                 "The tag points at another version's or another repository's commit; "
                                 "it was not loaded.")
    missing = [name for name in REQUIRED_FILES if name not in manifest.files]
    present = {path for path in (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
               if not is_hosting_file(path)} - {MANIFEST_FILE}
    unlisted = sorted(present - set(manifest.files))
    if missing or unlisted:
        raise BrokenVersionError(f"{where}: its manifest does not list {missing or unlisted}; "
                                 "a manifest must list every file of the version. It was not loaded.")
    try:
        learner = checked_learner(json.loads((folder / LEARNER_FILE).read_text(encoding="utf-8")),
                                  source=f"{where}/{LEARNER_FILE}")
    except (ValueError, OSError, LearnerFormatError) as error:
        raise BrokenVersionError(f"{where}: {error}") from None
    names = {learner.corpus.name.lower(), (learner.corpus.dataset_id or "").lower()}
    base = learner.base_model
    bases = {canonical_base_model(b).lower() for b in (base.model_id, base.name_or_path) if b}
    wanted_corpus = identity.corpus.lower()
    same_base = (LearnerIdentity.of(learner).base_model is None if identity.base_model is None
                 else canonical_base_model(identity.base_model).lower() in bases)
    if learner.kind != identity.kind or ("*" not in wanted_corpus and wanted_corpus not in names) or not same_base:
        raise BrokenVersionError(f"{where} holds a {learner.kind!r} learner for corpus {learner.corpus.name!r} "
                                 f"and base model {base.model_id!r}, not {identity.describe()} that was asked for; "
                                 "it was not loaded.")


def check_version_commit(files: dict[str, Callable[[], bytes]], *, repo_id: str, version: str) -> None:
    """Raise IntegrityError unless a commit about to be tagged `v<version>` of `repo_id` is a complete learner
    version, as `learnerhub publish` makes one: a manifest of this repository and version listing every file
    of the commit with its sha256, the required files among them, a valid learner.json.

    `files` maps each path of the commit to a function reading its bytes (only the listed ones are read);
    hosting files (`.gitattributes`, `registry.constants.is_hosting_file`) are no part of a version and ignored.
    What a server checks before it accepts a version tag, so that a bad upload cannot become "latest".
    """
    where = f"{repo_id}@{version}"
    files = {path: read for path, read in files.items() if not is_hosting_file(path)}
    if MANIFEST_FILE not in files:
        raise IntegrityError(f"{where}: the commit has no {MANIFEST_FILE}; tag versions that `learnerhub publish` "
                             "made (it writes the manifest), or publish the folder with it.")
    manifest = Manifest.from_json(files[MANIFEST_FILE](), source=f"{where}/{MANIFEST_FILE}")
    if (manifest.repo_id, manifest.version) != (repo_id, version):
        raise IntegrityError(f"{where}: its manifest describes {manifest.repo_id}@{manifest.version}.")
    missing = [name for name in REQUIRED_FILES if name not in manifest.files]
    unlisted = sorted(set(files) - set(manifest.files) - {MANIFEST_FILE})
    absent = sorted(set(manifest.files) - set(files))
    if missing or unlisted or absent:
        raise IntegrityError(f"{where}: the manifest and the commit disagree (required but unlisted: {missing}, in "
                             f"the commit but unlisted: {unlisted}, listed but absent: {absent}).")
    for name, recorded in manifest.files.items():
        if hashlib.sha256(files[name]()).hexdigest() != recorded:
            raise IntegrityError(f"{where}: {name} does not have the sha256 its manifest records.")
    try:
        checked_learner_json(json.loads(files[LEARNER_FILE]()), source=f"{where}/{LEARNER_FILE}")
    except (ValueError, LearnerFormatError, RecursionError) as error:
        raise IntegrityError(f"{where}: {error}") from None
