"""Load any learner folder by the kind recorded in its learner.json."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .errors import LearnerFormatError
from .learner import IGF_KIND, InformationGainLearner
from .metadata import LearnerMetadata
from .streaming_learner import STREAMING_KIND, StreamingLearner

LEARNER_KINDS = {IGF_KIND: InformationGainLearner, STREAMING_KIND: StreamingLearner}


def load_learner(folder: str | Path, model: nn.Module | None = None, tokenizer=None):
    """Load the learner in `folder` (safetensors only) and attach it to `model` when given.

    Example:
        >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)
    """
    kind = LearnerMetadata.load(folder).kind
    if kind not in LEARNER_KINDS:
        raise LearnerFormatError(f"{folder} holds a learner of kind {kind!r}; this learnerhub knows "
                                 f"{sorted(LEARNER_KINDS)}. Upgrade learnerhub.")
    return LEARNER_KINDS[kind].load(folder, model, tokenizer)
