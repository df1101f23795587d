"""Which learner a learner is: its kind, the corpus it serves (and the pool its contexts came from), and the base
model it was built for, or none for a kind that works with any base model.

One repository holds every version of one identity; a pull asks for one; a lock file records one. This type is
what they pass around instead of a bare (kind, base model, corpus) triple, so "any base model" is said once.

Example:
    >>> LearnerIdentity.requested("igf_text", "kjv", None).base_model_name   # 'any'
    >>> LearnerIdentity.of(load_learner(folder).metadata).describe()
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .constants import ANY_BASE_MODEL
from .errors import UsageError
from .kinds import find_learner_kind


@dataclass(frozen=True)
class LearnerIdentity:
    """(kind, corpus, base model or None); `pool` is recorded but two versions built on other pools are still
    the same learner (so it does not take part in equality)."""

    kind: str
    corpus: str
    #: The base model id (canonical), or None: the kind reads text and serves every base model.
    base_model: str | None
    pool: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, metadata) -> LearnerIdentity:
        """The identity a learner's metadata (`LearnerMetadata`) records."""
        kind = find_learner_kind(metadata.kind)
        model = metadata.base_model.model_id
        any_model = model == ANY_BASE_MODEL or (kind is not None and kind.any_base_model)
        pool = metadata.pool.name if metadata.pool is not None else None
        return cls(metadata.kind, metadata.corpus.name, None if any_model else (model or ""), pool=pool)

    @classmethod
    def requested(cls, kind: str, corpus: str, base_model: str | None) -> LearnerIdentity:
        """What a pull asks for: a kind that works with any base model needs none (one given is ignored); any
        other kind needs one, else a one-line UsageError."""
        known = find_learner_kind(kind)
        if base_model == ANY_BASE_MODEL or (known is not None and known.any_base_model):
            return cls(kind, corpus, None)
        if not base_model:
            raise UsageError(f"{corpus!r} is a corpus and a {kind} learner is built for one base model: give "
                             "--base-model too, or pull a repository as ORG/NAME[@VERSION].")
        return cls(kind, corpus, base_model)

    @property
    def base_model_name(self) -> str:
        """The base model as listings, lock files and repository names write it (`any` for none)."""
        return ANY_BASE_MODEL if self.base_model is None else self.base_model

    def key(self) -> tuple[str, str, str]:
        """(kind, corpus, base model), case-folded: two requests for the same learner have the same key."""
        return self.kind, self.corpus.lower(), self.base_model_name.lower()

    def describe(self) -> str:
        """"the 'igf' learner for corpus 'kjv' on base model 'x'" (or "for any base model")."""
        on = "for any base model" if self.base_model is None else f"on base model {self.base_model!r}"
        return f"the {self.kind!r} learner for corpus {self.corpus!r} {on}"
