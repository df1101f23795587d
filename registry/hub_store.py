"""The Hugging Face Hub (or any Hub-compatible server) as a learner store, through huggingface_hub.

The same protocol as the local store: a repository per learner, a commit per version on main, a tag
v<version> per version, the manifest inside the repository. The endpoint is `endpoint` (--endpoint)
or `HF_ENDPOINT`; the token `token`, `HF_TOKEN` or the `hf auth login` one. With `HF_HUB_OFFLINE=1`
everything is answered from the Hub cache (`HF_HUB_CACHE`), which holds the versions pulled before.

Publishing follows the same protocol as the local store (`registry.publish_protocol`) through the Hub
API (`registry.hub_publish`): the version is committed on a short-lived branch and tagged, then main
advances to the newest version (a pre-release never moves it past a release). Servers without Xet storage need `HF_HUB_DISABLE_XET=1` for uploads.
"""

from __future__ import annotations

import fnmatch
import json
import tempfile
from pathlib import Path

from huggingface_hub import HfApi, constants, hf_hub_download, scan_cache_dir, snapshot_download
from huggingface_hub.errors import (CacheNotFound, EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError,
                                    RevisionNotFoundError)
from packaging.version import Version

from learners.constants import LIBRARY_NAME
from learners.metadata import LEARNER_FILE, checked_learner, learnerhub_version

from .errors import IntegrityError, LearnerNotFoundError, StoreError
from .hub_publish import HubPublisher
from .manifest import Manifest
from .naming import canonical_base_model
from .reachability import check_reachable
from .staging import stage_learner
from .store import LearnerSummary, PublishedLearner
from .versions import latest_of, tag_name, version_of_tag


def offline() -> bool:
    return constants.is_offline_mode()


class HubStore:
    """Learners in repositories of a Hub-compatible server."""

    def __init__(self, endpoint: str | None = None, *, token: str | None = None,
                 cache_dir: str | Path | None = None) -> None:
        self.endpoint = endpoint.rstrip("/") if endpoint else constants.ENDPOINT
        self.location = self.endpoint
        self.token = token
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        self.api = HfApi(endpoint=self.endpoint, token=token, library_name=LIBRARY_NAME,
                         library_version=learnerhub_version())
        self._reached = False

    def _online(self) -> None:
        """Check once per store that the endpoint answers (a dead one fails in seconds, not 25 s of retries)."""
        if not self._reached:
            check_reachable(self.endpoint)
            self._reached = True

    # Publishing ---------------------------------------------------------------------------------
    def publish(self, source: Path, *, version: str, org: str) -> PublishedLearner:
        if offline():
            raise StoreError("Cannot publish while HF_HUB_OFFLINE=1 is set: unset it, or publish to a local "
                             "store with --store PATH.")
        self._online()
        with tempfile.TemporaryDirectory(prefix="learnerhub-publish-") as work:
            staged = stage_learner(source, Path(work), version=version, org=org)
            commit = HubPublisher(self.api, self.endpoint, read_file=self.read_file, token=self.token).publish(staged)
            published = self.versions(staged.repo_id)
        is_latest = latest_of(published) == Version(staged.version)
        return PublishedLearner(staged.repo_id, staged.version, commit, self.location, staged.manifest.files,
                                is_latest=is_latest)

    # Reading ------------------------------------------------------------------------------------
    def list_learners(self, *, corpus: str | None = None, base_model: str | None = None, kind: str | None = None,
                      org: str | None = None, refresh: bool = False) -> list[LearnerSummary]:
        summaries = self._cached_learners() if offline() else self._listed_learners(kind=kind, org=org)
        wanted = canonical_base_model(base_model) if base_model else None
        return sorted((s for s in summaries if _matches(s, corpus=corpus, base_model=wanted, kind=kind, org=org)),
                      key=lambda s: s.repo_id)

    def list_query(self, *, kind: str | None = None, org: str | None = None) -> dict:
        """Arguments of `HfApi.list_models` for a listing (tags set by learnerhub cards)."""
        tags = [LIBRARY_NAME] + ([f"learner:{kind}"] if kind else [])
        return {"filter": tags, "author": org, "cardData": True}

    def _listed_learners(self, *, kind: str | None, org: str | None) -> list[LearnerSummary]:
        self._online()
        summaries = []
        for model in self.api.list_models(**self.list_query(kind=kind, org=org)):
            data = model.card_data.to_dict() if model.card_data is not None else {}
            tags = [t for t in (data.get("tags") or model.tags or []) if isinstance(t, str)]
            kinds = [t.split(":", 1)[1] for t in tags if t.startswith("learner:")]
            corpora = [t.split(":", 1)[1] for t in tags if t.startswith("corpus:")]
            datasets = [d for d in data.get("datasets") or [] if isinstance(d, str)]
            base_model = data.get("base_model") if isinstance(data.get("base_model"), str) else None
            versions = sorted(self.versions(model.id), key=version_of_tag_or_zero)
            summaries.append(LearnerSummary(model.id, kinds[0] if kinds else None, base_model,
                                            corpora[0] if corpora else None, datasets[0] if datasets else None,
                                            versions[-1] if versions else None, " ".join(versions)))
        return summaries

    def _cached_learners(self) -> list[LearnerSummary]:
        """Offline: the learners whose versions are in the Hub cache."""
        summaries = []
        for repository in _scan(self.cache_dir):
            versions = self._cached_versions(repository)
            learner_files = [Path(r.snapshot_path) / LEARNER_FILE for r in repository.revisions]
            learner_files = [path for path in learner_files if path.is_file()]
            if repository.repo_type != "model" or not versions or not learner_files:
                continue
            try:
                learner = checked_learner(json.loads(learner_files[0].read_text()), source=str(learner_files[0]))
            except (ValueError, OSError, RecursionError):   # a malformed cached learner is skipped, not fatal
                continue
            ordered = sorted(versions, key=version_of_tag_or_zero)
            summaries.append(LearnerSummary(repository.repo_id, learner.kind, learner.base_model.model_id,
                                            learner.corpus.name, learner.corpus.dataset_id,
                                            ordered[-1], " ".join(ordered)))
        return summaries

    @staticmethod
    def _cached_versions(repository) -> dict[str, str]:
        found = {}
        for revision in repository.revisions:
            for ref in revision.refs:
                version = version_of_tag(ref)
                if version is not None:
                    found[str(version)] = revision.commit_hash
        return found

    def corpus_names(self) -> list[str]:
        names = sorted({name for s in self.list_learners() for name in (s.corpus, s.dataset_id) if name})
        if not names and offline():
            cache = self.cache_dir or constants.HF_HUB_CACHE
            raise LearnerNotFoundError(f"HF_HUB_OFFLINE=1 is set and the Hub cache ({cache}) holds no learner. Pull "
                                       "once online, or unset HF_HUB_OFFLINE.")
        return names

    def versions(self, repo_id: str) -> dict[str, str]:
        if offline():
            cached = [r for r in _scan(self.cache_dir) if r.repo_id == repo_id and r.repo_type == "model"]
            if not cached:
                raise LearnerNotFoundError(f"{repo_id} is not in the Hub cache and HF_HUB_OFFLINE=1 is set: pull it "
                                           "once online, or unset HF_HUB_OFFLINE.")
            return self._cached_versions(cached[0])
        self._online()
        try:
            refs = self.api.list_repo_refs(repo_id)
        except RepositoryNotFoundError:
            raise LearnerNotFoundError(f"{self.endpoint} has no learner {repo_id!r} (or your token cannot see it)."
                                       ) from None
        found = {}
        for ref in refs.tags:
            version = version_of_tag(ref.name)
            if version is not None:
                found[str(version)] = ref.target_commit
        return found

    def read_file(self, repo_id: str, commit: str, path: str) -> bytes:
        try:
            return Path(hf_hub_download(repo_id, path, revision=commit, cache_dir=self.cache_dir,
                                        endpoint=self.endpoint, token=self.token)).read_bytes()
        except (EntryNotFoundError, LocalEntryNotFoundError, RevisionNotFoundError) as error:
            raise StoreError(f"Cannot read {path} of {repo_id} at {commit[:12]} from {self.endpoint}: {error}") from None

    def fetch(self, repo_id: str, commit: str, manifest: Manifest, *,
              expected: dict[str, str] | None = None) -> Path:
        """`snapshot_download` pinned to the commit (tag name too, so offline specs resolve later)."""
        try:
            folder = Path(snapshot_download(repo_id, revision=commit, cache_dir=self.cache_dir,
                                            endpoint=self.endpoint, token=self.token))
            tag = tag_name(manifest.version)
            if not offline() and Path(snapshot_download(repo_id, revision=tag, cache_dir=self.cache_dir,
                                                        endpoint=self.endpoint, token=self.token)) != folder:
                raise IntegrityError(f"{repo_id}: tag {tag} no longer points to commit {commit[:12]}.")
        except LocalEntryNotFoundError:
            raise StoreError(f"{repo_id}@{manifest.version} is not in the Hub cache and HF_HUB_OFFLINE=1 is set."
                             ) from None
        manifest.verify(folder, expected=expected)
        return folder


def _scan(cache_dir: str | None):
    try:
        return scan_cache_dir(cache_dir).repos
    except CacheNotFound:
        return []


def version_of_tag_or_zero(version: str):
    return version_of_tag(f"v{version}") or version_of_tag("v0.0.0")


def _matches(summary: LearnerSummary, *, corpus, base_model, kind, org) -> bool:
    def like(value: str | None, pattern: str) -> bool:
        return value is not None and fnmatch.fnmatch(value.lower(), pattern.lower())

    return ((not corpus or like(summary.corpus, corpus) or like(summary.dataset_id, corpus))
            and (not base_model or like(summary.base_model, base_model))
            and (not kind or like(summary.kind, kind))
            and (not org or like(summary.repo_id.split("/")[0], org)))

