"""A learner folder opened by the class its kind registered (`LearnerKind.learner_class`).

This is how the store hands back a loaded learner (`registry.pull`) without importing the ML library that
defines the kind: the library registered the class from above. `learners.loading.load_learner` builds on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .kinds import learner_kind
from .metadata import LearnerMetadata


def load_learner_folder(folder: str | Path, model: Any = None, tokenizer: Any = None) -> Any:
    """The learner in `folder`, of the kind its learner.json names, attached to `model` when one is given."""
    kind = learner_kind(LearnerMetadata.load(folder).kind)
    return kind.load_class().load(Path(folder), model, tokenizer)
