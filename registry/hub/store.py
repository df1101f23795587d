"""The Hugging Face Hub (or any Hub-compatible server) as a learner store, through huggingface_hub.

The same protocol as the local store: a repository per learner, a commit per version on main, a tag
v<version> per version, the manifest inside the repository. The endpoint is `endpoint` (--endpoint)
or `HF_ENDPOINT`; the token `token`, `HF_TOKEN` or the `hf auth login` one. With `HF_HUB_OFFLINE=1`
everything is answered from the Hub cache (`HF_HUB_CACHE`), which holds the versions pulled before.

Publishing follows the same protocol as the local store (`registry.publish_protocol`) through the Hub
API (`registry.hub.publish`): the version is committed on a short-lived branch and tagged, then main
advances to the newest version (a pre-release never moves it past a release). Servers without Xet storage
need `HF_HUB_DISABLE_XET=1` for uploads.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

from huggingface_hub import HfApi, constants, get_token, hf_hub_download, scan_cache_dir, snapshot_download
from huggingface_hub.errors import (CacheNotFound, EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError,
                                    RevisionNotFoundError)

from cards.format.constants import LIBRARY_NAME, LEARNER_FILE
from cards.format.metadata import checked_learner, learnerhub_version
from ..constants import MAIN_BRANCH
from ..errors import BrokenVersionError, IntegrityError, LearnerNotFoundError, LifecycleError, StoreError
from ..lifecycle import LIFECYCLE_BRANCH, Lifecycle, LifecycleEvent
from ..manifest import Manifest
from cards.format.naming import canonical_base_model
from ..staging import stage_learner
from ..store import LearnerSummary, PublishedLearner, summary_matches
from ..versions import latest_version, tag_name, version_of_tag
from .lifecycle_log import HubLifecycle
from .publish import HubPublisher
from .reachability import check_reachable


def offline() -> bool:
    return constants.is_offline_mode()


class HubStore:
    """Learners in repositories of a Hub-compatible server."""

    def __init__(self, endpoint: str | None = None, *, token: str | None = None,
                 cache_dir: str | Path | None = None) -> None:
        self.endpoint = endpoint.rstrip("/") if endpoint else constants.ENDPOINT
        self.location = self.endpoint
        self.token = token or None   # an empty token is no token (the client would send "Bearer " and fail)
        token = self.token
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        self.api = HfApi(endpoint=self.endpoint, token=token, library_name=LIBRARY_NAME,
                         library_version=learnerhub_version())
        self._reached = False
        self._mains: dict[str, str | None] = {}   # repo -> where main pointed at the last refs listing
        self._lifecycles = HubLifecycle(self.api, self.endpoint, token=token, cache_dir=self.cache_dir)

    def _publisher(self) -> HubPublisher:
        return HubPublisher(self.api, self.endpoint, read_file=self.read_file, lifecycle=self.lifecycle,
                            token=self.token)

    def _need_token(self, what: str) -> None:
        """A write without any token fails on the server anyway (and in huggingface_hub, on a custom endpoint, as
        a URL parsing error): say so first, with what to do."""
        if self.token is None and get_token() is None:
            raise StoreError(f"Cannot {what} to {self.endpoint} without a token: set HF_TOKEN to a write token of "
                             "that server (or run `hf auth login`).")

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
        self._need_token("publish")
        self._online()
        with tempfile.TemporaryDirectory(prefix="learnerhub-publish-") as work:
            staged = stage_learner(source, Path(work), version=version, org=org)
            commit = self._publisher().publish(staged)
            published = self.versions(staged.repo_id)
        is_latest = latest_version(published, self.lifecycle(staged.repo_id)) == staged.version
        return PublishedLearner(staged.repo_id, staged.version, commit, self.location, staged.manifest.files,
                                is_latest=is_latest)

    # Lifecycle ----------------------------------------------------------------------------------
    def lifecycle(self, repo_id: str) -> Lifecycle:
        """Yanks, deletions and aliases of the repository (`registry.lifecycle`)."""
        if not offline():
            self._online()
        return self._lifecycles.read(repo_id)

    def record(self, repo_id: str, event: LifecycleEvent) -> Lifecycle:
        """Append `event` to the log, then make the refs follow (a deleted tag goes; main leaves yanked versions)."""
        if offline():
            raise StoreError("Cannot change a learner's lifecycle while HF_HUB_OFFLINE=1 is set: unset it.")
        self._need_token("record a lifecycle event")
        lifecycle = self._lifecycles.append(repo_id, event, self.versions(repo_id))
        for version in lifecycle.deleted:
            if version in self.versions(repo_id):
                self.api.delete_tag(repo_id, tag=tag_name(version))
        self._publisher().advance_main(repo_id)
        return lifecycle

    # Reading ------------------------------------------------------------------------------------
    def list_learners(self, *, corpus: str | None = None, base_model: str | None = None, kind: str | None = None,
                      org: str | None = None, refresh: bool = False) -> list[LearnerSummary]:
        summaries = self._cached_learners() if offline() else self._listed_learners(kind=kind, org=org)
        wanted = canonical_base_model(base_model) if base_model else None
        return sorted((s for s in summaries
                       if summary_matches(s, corpus=corpus, base_model=wanted, kind=kind, org=org)),
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
            published, has_log = self._remote_versions(model.id)
            try:
                lifecycle = self._lifecycles.read(model.id) if has_log else Lifecycle()
            except LifecycleError:   # a malformed log is that repository's problem: it is left out
                continue
            versions = sorted(lifecycle.live(published), key=version_of_tag_or_zero)
            summaries.append(LearnerSummary(model.id, kinds[0] if kinds else None, base_model,
                                            corpora[0] if corpora else None, datasets[0] if datasets else None,
                                            latest_version(published, lifecycle), " ".join(versions)))
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
        return self._remote_versions(repo_id)[0]

    def _remote_versions(self, repo_id: str) -> tuple[dict[str, str], bool]:
        """(version -> commit, whether the repository has a lifecycle log), from one refs request."""
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
        self._mains[repo_id] = next((b.target_commit for b in refs.branches if b.name == MAIN_BRANCH), None)
        return found, any(b.name == LIFECYCLE_BRANCH for b in refs.branches)

    def read_file(self, repo_id: str, commit: str, path: str) -> bytes:
        try:
            return Path(hf_hub_download(repo_id, path, revision=commit, cache_dir=self.cache_dir,
                                        endpoint=self.endpoint, token=self.token)).read_bytes()
        except (EntryNotFoundError, LocalEntryNotFoundError, RevisionNotFoundError) as error:
            raise StoreError(f"Cannot read {path} of {repo_id} at {commit[:12]} from {self.endpoint}: "
                             f"{error}") from None

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
            if not offline():
                self._record_main(repo_id, commit, folder)
        except LocalEntryNotFoundError:
            raise StoreError(f"{repo_id}@{manifest.version} is not in the Hub cache and HF_HUB_OFFLINE=1 is set."
                             ) from None
        try:
            manifest.verify(folder, expected=expected)
        except IntegrityError:
            if expected is not None or offline():
                raise
            self._check_published_copy(repo_id, commit, manifest, folder)
        return folder

    def _record_main(self, repo_id: str, commit: str, snapshot: Path) -> None:
        """Write `refs/main` into the Hub cache when main points to the commit just fetched (a pull of the latest
        version), as `hf_hub_download` does for a branch: stock offline calls without a revision then find it."""
        if repo_id not in self._mains:
            self._remote_versions(repo_id)
        if self._mains.get(repo_id) == commit and snapshot.name == commit:
            try:
                write_cache_ref(snapshot.parent.parent, MAIN_BRANCH, commit)
            except OSError:
                pass   # a read-only cache (as huggingface_hub does): pinned revisions still resolve offline

    def _check_published_copy(self, repo_id: str, commit: str, manifest: Manifest, cached: Path) -> None:
        """A cached copy failed its manifest: download the version afresh from the endpoint (never copied from
        the cache, which is what failed: `force_download`). If that fails too, the version as published is
        broken (BrokenVersionError, passed over by a range or latest); else the local cache is damaged, which
        is an error of its own (IntegrityError: nothing is passed over, so a pull never silently downgrades)."""
        where = f"{repo_id}@{manifest.version}"
        with tempfile.TemporaryDirectory(prefix="learnerhub-check-") as work:
            fresh = Path(snapshot_download(repo_id, revision=commit, local_dir=work, endpoint=self.endpoint,
                                           token=self.token, force_download=True))
            problem = manifest.mismatch(fresh)
        if problem:
            raise BrokenVersionError(f"{where} as published on {self.endpoint} is broken: {problem}.") from None
        raise IntegrityError(f"Your local Hub cache's copy of {where} is damaged ({manifest.mismatch(cached)} in "
                             f"{cached}); the copy on {self.endpoint} is intact. Nothing was loaded: delete that "
                             "folder (or `hf cache delete`) and pull again.") from None


def write_cache_ref(storage: Path, ref: str, commit: str) -> None:
    """`refs/<ref>` of a repository's folder in the Hub cache, written atomically (readers never see half a sha)."""
    path = storage / "refs" / ref
    if path.is_file() and path.read_text() == commit:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{ref}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(commit)
    os.replace(temporary, path)


def _scan(cache_dir: str | None):
    try:
        return scan_cache_dir(cache_dir).repos
    except CacheNotFound:
        return []


def version_of_tag_or_zero(version: str):
    return version_of_tag(f"v{version}") or version_of_tag("v0.0.0")
