"""The registry's Python API: publish, download, pull, list and describe learners.

Example:
    >>> import learners, registry     # learners registers the shipped kinds (their cards, loading)
    >>> registry.publish("runs/igf-kjv", version="1.0.0")                 # -> PublishedLearner
    >>> learner, resolution = registry.pull("kjv", base_model="smollm2", model=model, tokenizer=tokenizer)
    >>> resolution.version, resolution.commit                            # what was resolved
    >>> registry.list_learners(corpus="kjv")                             # -> [LearnerSummary, ...]
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cards.format.constants import DEFAULT_KIND, LEARNER_FILE
from cards.format.identity import LearnerIdentity
from cards.format.loading import load_learner_folder
from cards.format.metadata import checked_learner
from .constants import DEFAULT_ORG, LOCK_FILE, MANIFEST_FILE
from .errors import BrokenVersionError, IntegrityError, RegistryWarning, StoreError, WrongBaseModelError
from .integrity import check_identity
from .lockfile import LockedLearner, find_locked, record_lock
from .manifest import Manifest
from cards.format.naming import canonical_base_model
from .naming import LearnerReference
from .lifecycle import Lifecycle
from .resolve import Resolution, find_repository, pick_version
from .store import LearnerSummary, PublishedLearner
from .store_choice import open_store
from .versions import VersionSpec


def publish(folder: str | Path, *, version: str, org: str = DEFAULT_ORG, store: str | Path | None = None,
            endpoint: str | None = None, token: str | None = None) -> PublishedLearner:
    """Publish the learner in `folder` as `version` (X.Y.Z) to `<org>/<kind>-<base model>-<corpus>`.

    Raises VersionExistsError if that version exists: published versions are never overwritten.
    """
    return open_store(store, endpoint=endpoint, token=token).publish(Path(folder), version=version, org=org)


def download(corpus: str, *, base_model: str | None = None, kind: str = DEFAULT_KIND, version: str | None = None,
             org: str | None = None, store: str | Path | None = None, endpoint: str | None = None,
             token: str | None = None, cache_dir: str | Path | None = None, lock: str | Path | None = None,
             locked: bool = False, repository: str | None = None) -> Resolution:
    """Resolve the request, fetch the version into the cache, verify every file; no torch needed.

    `lock`: a lock file to record the resolution in (or, with `locked=True`, to reproduce it from;
    `locked` alone uses ./learnerhub.lock). `repository`: this ORG/NAME rather than the one found for
    (corpus, base model, kind); its version must still be that learner. `base_model` is needed only by a kind
    built for one base model: a kind that works with any resolves to its learner whatever `base_model` says
    (the kind must be registered to say so: `import learners` registers the shipped ones, without torch).
    """
    identity = LearnerIdentity.requested(kind, corpus, canonical_base_model(base_model) if base_model else None)
    opened = open_store(store, endpoint=endpoint, token=token, cache_dir=cache_dir)
    lock_path = Path(lock) if lock is not None else (Path(LOCK_FILE) if locked else None)
    expected = None
    spec = VersionSpec.parse(version)
    if locked:
        assert lock_path is not None   # locked: the lock file given, or LOCK_FILE
        entry = find_locked(lock_path, identity)
        repo_id, expected = entry.repo_id, entry.files
        if opened.versions(repo_id).get(entry.version) != entry.commit:
            raise IntegrityError(f"{lock_path} pins {repo_id}@{entry.version} to commit {entry.commit[:12]}, but the "
                                 f"store {opened.location} no longer has that tag on that commit. Tags are "
                                 "immutable: the store was altered, this is another store, or the version was "
                                 "deleted.")
        candidates = [(entry.version, entry.commit)]
        lifecycle = opened.lifecycle(repo_id)
    else:
        repo_id = repository or find_repository(opened, identity, org=org)
        lifecycle = opened.lifecycle(repo_id)   # read once: on an endpoint it is a download
        candidates = spec.candidates(opened.versions(repo_id), lifecycle, repo_id=repo_id)
    exact = locked or spec.exact or spec.alias is not None
    for number, (resolved_version, commit) in enumerate(candidates):
        try:
            manifest = _published_manifest(opened, repo_id, resolved_version, commit)
            folder = opened.fetch(repo_id, commit, manifest, expected=expected)
            check_identity(manifest, folder, repo_id=repo_id, version=resolved_version, identity=identity)
            break
        except BrokenVersionError as error:
            if exact or number == len(candidates) - 1:
                raise
            warnings.warn(f"{repo_id}@{resolved_version} is broken and was passed over: {error} Pulling the newest "
                          "intact version instead; yank or delete the broken one.", RegistryWarning, stacklevel=2)
    yanked = lifecycle.yanked
    if resolved_version in yanked:
        warnings.warn(f"{repo_id}@{resolved_version} is yanked ({yanked[resolved_version] or 'no reason given'}); it "
                      "was chosen only because it is pinned exactly.", RegistryWarning, stacklevel=2)
    resolution = Resolution(kind, corpus, identity.base_model_name, str(spec), repo_id, resolved_version,
                            commit, manifest.files, opened.location, folder)
    if lock_path is not None and not locked:
        record_lock(lock_path, LockedLearner(kind, corpus, identity.base_model_name, repo_id, resolved_version, commit,
                                             manifest.files, opened.location))
    return resolution


def _published_manifest(opened, repo_id: str, version: str, commit: str) -> Manifest:
    """The version's manifest; BrokenVersionError when it has none, an unreadable one, or another version's."""
    source = f"{repo_id}@{version}/{MANIFEST_FILE}"
    try:
        manifest = Manifest.from_json(opened.read_file(repo_id, commit, MANIFEST_FILE), source=source)
    except (StoreError, IntegrityError) as error:
        raise BrokenVersionError(f"{source}: {error}") from None
    if (manifest.repo_id, manifest.version) != (repo_id, version):
        raise BrokenVersionError(f"{repo_id}@{version}: its manifest describes {manifest.repo_id}@{manifest.version}. "
                                 "The tag points at another version's or another repository's commit.")
    return manifest


def download_reference(reference: str, *, base_model: str | None = None, store: str | Path | None = None,
                       endpoint: str | None = None, token: str | None = None, cache_dir: str | Path | None = None,
                       lock: str | Path | None = None) -> Resolution:
    """`download` of `ORG/NAME[@VERSION]` (what `learnerhub info` takes): the kind, corpus and base model are
    read from that version's learner.json, then checked on the fetched files like any pull. `base_model`, when
    given, must be the learner's (WrongBaseModelError naming both otherwise)."""
    parsed = LearnerReference.parse(reference)
    opened = open_store(store, endpoint=endpoint, token=token, cache_dir=cache_dir)
    _, commit = pick_version(opened, parsed.repo_id, parsed.version)
    try:
        learner = checked_learner(json.loads(opened.read_file(parsed.repo_id, commit, LEARNER_FILE)),
                                  source=f"{reference} {LEARNER_FILE}")
    except (ValueError, TypeError, RecursionError):   # not JSON (or absent), or malformed (LearnerFormatError)
        learner = None
    if learner is None or learner.base_model.model_id is None:
        raise IntegrityError(f"{reference}: its {LEARNER_FILE} does not name a kind, corpus and base model.")
    identity = LearnerIdentity.of(learner)   # base model None: a text-level learner, every model is its own
    if (base_model is not None and identity.base_model is not None
            and canonical_base_model(base_model) != canonical_base_model(identity.base_model)):
        raise WrongBaseModelError(f"{reference} is a learner for base model {learner.base_model.model_id!r}, not for "
                                  f"{canonical_base_model(base_model)!r}: a learner only works with the base model it "
                                  "was built for. Pull one built for yours, or drop --base-model.")
    return download(identity.corpus, base_model=identity.base_model, kind=identity.kind,
                    version=parsed.version, store=store, endpoint=endpoint, token=token, cache_dir=cache_dir,
                    lock=lock, repository=parsed.repo_id)


class PulledLearner(NamedTuple):
    """`learner, resolution = pull(...)`: the loaded learner and what was resolved."""

    learner: Any
    resolution: Resolution


def pull(corpus: str, *, base_model: str | None = None, kind: str = DEFAULT_KIND, version: str | None = None,
         org: str | None = None, store: str | Path | None = None, endpoint: str | None = None, token: str | None = None,
         cache_dir: str | Path | None = None, model=None, tokenizer=None, lock: str | Path | None = None,
         locked: bool = False) -> PulledLearner:
    """`download`, then load the learner, attached to `model` (checked against it) when one is given, by the
    class its kind registered (`import learners` registers the shipped kinds; the usage snippets import it).

    Raises BaseModelMismatchError (naming both models) if `model` is not the learner's base model.
    """
    resolution = download(corpus, base_model=base_model, kind=kind, version=version, org=org, store=store,
                          endpoint=endpoint, token=token, cache_dir=cache_dir, lock=lock, locked=locked)
    return PulledLearner(load_learner_folder(resolution.folder, model, tokenizer), resolution)


def list_learners(*, corpus: str | None = None, base_model: str | None = None, kind: str | None = None,
                  org: str | None = None, store: str | Path | None = None, endpoint: str | None = None,
                  token: str | None = None, refresh: bool = False) -> list[LearnerSummary]:
    """Learners in the store matching every filter given (`*` wildcards allowed), sorted by repo_id."""
    return open_store(store, endpoint=endpoint, token=token).list_learners(
        corpus=corpus, base_model=base_model, kind=kind, org=org, refresh=refresh)


@dataclass(frozen=True)
class LearnerInfo:
    """One version of one repository: its commit, learner.json, file hashes, every version and the lifecycle
    (yanks with their reasons, aliases, the audit lines)."""

    repo_id: str
    version: str
    commit: str
    versions: dict[str, str]
    learner: dict
    files: dict[str, str]
    store: str
    lifecycle: Lifecycle

    @property
    def yanked(self) -> str | None:
        """Why this version is yanked, or None when it is not."""
        return self.lifecycle.yanked.get(self.version)

    def to_dict(self) -> dict:
        return {**self.__dict__, "lifecycle": self.lifecycle.to_dict(), "yanked": self.yanked}


def info(reference: str, *, store: str | Path | None = None, endpoint: str | None = None,
         token: str | None = None) -> LearnerInfo:
    """Describe `ORG/NAME[@VERSION]` (VERSION may be a spec, an alias or a commit; default: the newest)."""
    parsed = LearnerReference.parse(reference)
    opened = open_store(store, endpoint=endpoint, token=token)
    versions, lifecycle = opened.versions(parsed.repo_id), opened.lifecycle(parsed.repo_id)
    version, commit = VersionSpec.parse(parsed.version).pick(versions, lifecycle, repo_id=parsed.repo_id)
    learner = json.loads(opened.read_file(parsed.repo_id, commit, LEARNER_FILE))
    manifest = Manifest.from_json(opened.read_file(parsed.repo_id, commit, MANIFEST_FILE), source=reference)
    return LearnerInfo(parsed.repo_id, version, commit, lifecycle.live(versions), learner, manifest.files,
                       opened.location, lifecycle)
