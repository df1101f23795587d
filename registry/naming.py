"""Where a learner lives in a store: an organisation and a reference `ORG/NAME[@VERSION]`.

The repository name itself is derived from the learner's identity (`cards.format.naming`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidVersionError, LearnerNotFoundError

_ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def check_org(org: str) -> str:
    if not _ORG.match(org):
        raise InvalidVersionError(f"Organisation {org!r} is not valid: use letters, digits, '.', '_' or '-'.")
    return org


@dataclass(frozen=True)
class LearnerReference:
    """`org/name[@version]` as typed on the command line (`learnerhub info local/igf-x@1.0.0`)."""

    repo_id: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> LearnerReference:
        repo_id, _, version = text.partition("@")
        if repo_id.count("/") != 1 or not all(repo_id.split("/")):
            raise LearnerNotFoundError(f"{text!r} is not a learner reference: write ORG/NAME or ORG/NAME@VERSION, "
                                       "for example local/igf-smollm2-135m-instruct-kjv@1.0.0.")
        return cls(repo_id, version or None)
