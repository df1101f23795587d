"""Load any learner by the kind recorded in its learner.json (see `registry.format.kinds`): a folder, or a published
learner by its repository id (through the store plugin, `learners.store_lookup`)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from registry.format.errors import LearnerFormatError
from registry.format.kinds import learner_kind
from registry.format.metadata import LearnerMetadata
from registry.suggestions import did_you_mean_path

from .store_lookup import is_reference, store_plugin


def load_learner(source: str | Path, model: nn.Module | None = None, tokenizer=None, *,
                 store: str | Path | None = None, endpoint: str | None = None, token: str | None = None,
                 cache_dir: str | Path | None = None):
    """Load a learner (safetensors only) and attach it to `model` when given.

    `source` is a learner folder, or a published learner `ORG/NAME[@VERSION]` (a version, range, alias or
    commit), pulled and verified from the store (`store` folder or `endpoint`; default: the local store).

    Example:
        >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)                       # a folder
        >>> learner = load_learner("local/igf-smollm2-135m-instruct-kjv@1.0", model, tokenizer)  # published
    """
    folder = Path(source)
    if is_reference(str(source)):
        folder = store_plugin().fetch_reference(str(source), store=store, endpoint=endpoint, token=token,
                                                cache_dir=cache_dir)
    elif not folder.exists():
        raise LearnerFormatError(f"There is no learner folder {str(source)!r}.{did_you_mean_path(folder)} Pass a "
                                 "learner folder, or a published learner as ORG/NAME[@VERSION].")
    kind = learner_kind(LearnerMetadata.load(folder).kind)
    return kind.load_class().load(folder, model, tokenizer)
