"""Names that say what a learner is: `igf-smollm2-135m-instruct-kjv`, derived from its identity.

One repository holds every version of one `LearnerIdentity` (kind, base model or any, corpus); its name is
derived from it, timm-style, so that a listing reads without opening anything. The library names what it
saves with these, and the store files it under them (`registry.naming` adds organisations and references).
"""

from __future__ import annotations

import re
from pathlib import Path

from .constants import SMOLLM2_ALIAS, SMOLLM2_MODEL_ID
from .identity import LearnerIdentity

_NOT_NAME = re.compile(r"[^a-z0-9.]+")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[^/@\s]+)?$")


def slug(text: str) -> str:
    """Lower-case, runs of other characters -> '-': `SmolLM2-135M-Instruct` -> `smollm2-135m-instruct`."""
    return _NOT_NAME.sub("-", text.lower()).strip("-.") or "unnamed"


def canonical_base_model(name: str) -> str:
    """The model id the user means: the alias `smollm2` is SmolLM2-135M-Instruct."""
    return SMOLLM2_MODEL_ID if name.strip().lower() == SMOLLM2_ALIAS else name.strip()


def same_base_model(asked: str, recorded: dict) -> bool:
    """Whether the base model asked for (id, alias or path) is the one recorded in learner.json."""
    asked = canonical_base_model(asked).lower()
    return asked in {str(recorded.get(key, "")).lower() for key in ("model_id", "name_or_path")} - {""}


def repository_name(kind: str, base_model_id: str, corpus_name: str) -> str:
    """`igf` + `HuggingFaceTB/SmolLM2-135M-Instruct` + `kjv` -> `igf-smollm2-135m-instruct-kjv`."""
    model = base_model_id.rstrip("/").rsplit("/", 1)[-1]
    return f"{slug(kind)}-{slug(model)}-{slug(corpus_name)}"[:96]


def identity_repository_name(identity: LearnerIdentity) -> str:
    """The repository name of a learner identity (`any` for a kind that works with any base model)."""
    return repository_name(identity.kind, identity.base_model_name or "model", identity.corpus)


def learner_repository_name(metadata) -> str:
    """The repository name of a learner, from its metadata's identity (kind, base model, corpus)."""
    return identity_repository_name(metadata.identity)


def is_reference(text: str) -> bool:
    """Whether `text` names a published learner (`ORG/NAME` or `ORG/NAME@VERSION`) rather than a folder."""
    return bool(_REFERENCE.match(text)) and not Path(text).exists()
