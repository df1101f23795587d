"""Load any learner folder by the kind recorded in its learner.json (see `learners.kinds`)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .kinds import learner_kind
from .metadata import LearnerMetadata


def load_learner(folder: str | Path, model: nn.Module | None = None, tokenizer=None):
    """Load the learner in `folder` (safetensors only) and attach it to `model` when given.

    Example:
        >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)
    """
    kind = learner_kind(LearnerMetadata.load(folder).kind)
    return kind.load_class().load(folder, model, tokenizer)
