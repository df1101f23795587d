"""Which published learner a request means: (corpus, base model, kind, version spec) -> one commit.

Candidates are found by corpus name or dataset id, base model (id, alias or path) and kind; the
newest version matching the spec wins. Every way this can fail says what the store does have.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from cards.suggestions import did_you_mean
from .errors import AmbiguousLearnerError, LearnerNotFoundError, WrongBaseModelError
from cards.format.identity import LearnerIdentity
from cards.format.kinds import learner_kind, learner_kinds
from cards.format.naming import canonical_base_model
from .store import Store
from .versions import VersionSpec


@dataclass(frozen=True)
class Resolution:
    """What a pull resolved to, and where its verified files are (`folder`)."""

    kind: str
    corpus: str
    base_model: str
    spec: str
    repo_id: str
    version: str
    commit: str
    files: dict[str, str]
    store: str
    folder: Path

    def to_dict(self) -> dict:
        return {**asdict(self), "folder": str(self.folder)}


def find_repository(store: Store, identity: LearnerIdentity, *, org: str | None = None) -> str:
    """The repo_id holding the learners of `identity`; raise a helpful error when there is none."""
    corpus, kind, base_model = identity.corpus, identity.kind, canonical_base_model(identity.base_model_name)
    for_corpus = store.list_learners(corpus=corpus, kind=kind, org=org)
    if not for_corpus:
        raise _unknown_corpus(store, corpus, kind)
    matching = store.list_learners(corpus=corpus, kind=kind, org=org, base_model=base_model)
    if not matching:
        built_for = sorted({s.base_model for s in for_corpus})
        raise WrongBaseModelError(
            f"The store {store.location} has {kind!r} learners for corpus {corpus!r}, but built for base model(s) "
            f"{', '.join(map(repr, built_for))}, not for {base_model!r}. A learner only works with the base model "
            "it was built for: build one for yours (`learnerhub finetune --learner auto` does it), use "
            f"--base-model {built_for[0]}{_any_base_model_hint()}.")
    if len(matching) > 1:
        raise AmbiguousLearnerError(f"Several repositories fit ({', '.join(s.repo_id for s in matching)}); pass "
                                    "--org to choose one.")
    return matching[0].repo_id


def _any_base_model_hint() -> str:
    """", or a text-level learner (--kind K), which works with any base model", for the first such kind known."""
    kinds = [name for name in learner_kinds() if learner_kind(name).any_base_model]
    return f", or a text-level learner (--kind {kinds[0]}), which works with any base model" if kinds else ""


def pick_version(store: Store, repo_id: str, spec: str | None) -> tuple[str, str]:
    """(version, commit) of the newest version of `repo_id` matching `spec` (read from the repository;
    yanked versions only by an exact pin, aliases through the repository's lifecycle log)."""
    return version_candidates(store, repo_id, spec)[0]


def version_candidates(store: Store, repo_id: str, spec: str | None) -> list[tuple[str, str]]:
    """Every (version, commit) `spec` may choose in `repo_id`, best first (`VersionSpec.candidates`)."""
    return VersionSpec.parse(spec).candidates(store.versions(repo_id), store.lifecycle(repo_id), repo_id=repo_id)


def _unknown_corpus(store: Store, corpus: str, kind: str) -> LearnerNotFoundError:
    names = store.corpus_names()
    if not names:
        return LearnerNotFoundError(f"The store {store.location} has no learners yet. Build and publish one "
                                    "(`learnerhub publish DIR --version 1.0.0`), or point --store/--endpoint at "
                                    "another store.")
    hint = did_you_mean(corpus, names, limit=5, cutoff=0.5)
    if corpus.lower() in {n.lower() for n in names}:
        return LearnerNotFoundError(f"The store {store.location} has learners for corpus {corpus!r}, but none of "
                                    f"kind {kind!r}. See `learnerhub list --corpus {corpus}`.")
    return LearnerNotFoundError(f"The store {store.location} has no learner for corpus {corpus!r}.{hint} "
                                f"Corpora it has: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''}.")
