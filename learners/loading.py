"""Load any learner by the kind recorded in its learner.json (see `cards.format.kinds`): a folder, or a
published learner by its repository id, fetched and verified by the installed learner store
(`store_access`: learnerhub's `registry`), as transformers downloads through huggingface_hub."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from cards.format.errors import LearnerFormatError
from cards.format.loading import load_learner_folder
from .store_access import learner_store
from cards.format.naming import is_reference
from cards.suggestions import did_you_mean_path


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
        folder = learner_store().fetch_folder(str(source), store=store, endpoint=endpoint, token=token,
                                              cache_dir=cache_dir)
    elif not folder.exists():
        raise LearnerFormatError(f"There is no learner folder {str(source)!r}.{did_you_mean_path(folder)} Pass a "
                                 "learner folder, or a published learner as ORG/NAME[@VERSION].")
    return load_learner_folder(folder, model, tokenizer)
