"""`learnerhub finetune --learner auto`: use the store's learner for the corpus, or build and publish one.

The learner used is always the one pulled back from the store (verified, and the same bytes the
next run will get), never the in-memory one that was just built.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from collections.abc import Callable

from learners.build_request import BuildRequest
from cards.format.constants import DEFAULT_KIND
from registry.client import publish, pull
from registry.constants import DEFAULT_ORG
from registry.errors import LearnerNotFoundError, VersionExistsError

FIRST_VERSION = "1.0.0"


def pull_or_build(corpus, model, tokenizer, ref, config=None, *, target=None, store: str | Path | None = None,
                  endpoint: str | None = None, org: str = DEFAULT_ORG, progress: bool = False,
                  before_publish: Callable[[object, Path], None] | None = None, kind: str = DEFAULT_KIND):
    """The learner of `kind` for (`target` or `corpus`, `ref.model_id`), attached to `model`; built (on the pool
    `corpus`) and published if missing.

    `corpus` and `target` are `learners.corpora.corpus.Corpus`, `ref` a `BaseModelRef`, `config` a `BuildConfig`.
    `before_publish(learner, folder)` runs on a freshly built learner's saved folder before it is
    published (`learnerhub eval auto` records its evaluation there, so the first version carries it).
    """
    request = dict(base_model=ref.model_id, kind=kind, store=store, endpoint=endpoint, model=model,
                   tokenizer=tokenizer)
    wanted = target or corpus
    try:
        learner, resolution = pull(wanted.name, **request)
    except LearnerNotFoundError as missing:
        _say(progress, f"{missing}\nBuilding it, then publishing it as {FIRST_VERSION}.")
        _build_and_publish(kind, BuildRequest(corpus, model, tokenizer, ref, config, target=target, progress=progress),
                           store=store, endpoint=endpoint, org=org, before_publish=before_publish)
        learner, resolution = pull(wanted.name, **request)
    _say(progress, f"Using learner {resolution.repo_id}@{resolution.version} (commit {resolution.commit[:12]}) "
                   f"from {resolution.store}.")
    if learner.metadata.corpus.fingerprint != wanted.fingerprint:
        _say(progress, f"Note: that learner was built on another text named {wanted.name!r} (corpus fingerprints "
                       "differ); its scores may fit this corpus less well.")
    return learner


def _build_and_publish(kind: str, request: BuildRequest, *, store, endpoint, org, before_publish) -> None:
    from cards.format.kinds import learner_kind

    learner = learner_kind(kind).behaviour("builder")(request)
    if learner is None:   # a process other than the main one of a sharded build: the main one publishes
        return
    with tempfile.TemporaryDirectory(prefix="learnerhub-auto-") as work:
        try:
            folder = learner.save(Path(work) / "learner")
            if before_publish is not None:
                before_publish(learner, folder)
            published = publish(folder, version=FIRST_VERSION, org=org, store=store, endpoint=endpoint)
            _say(request.progress, f"Published {published.repo_id}@{published.version} to {published.store}.")
        except VersionExistsError:
            _say(request.progress, "Another process published it meanwhile; using theirs.")


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr)
