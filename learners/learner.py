"""What every learner kind shares: its metadata, attaching to the base model it was built for, atomic
saving and safetensors-only loading.

Like a PEFT adapter, a learner folder holds only the learner's own small model; the base model
(tokenizer and input embeddings) is passed in by the user, and attaching checks it is the one the
learner was built for. A kind subclasses `Learner`, sets `kind`, and fills in the template methods
`_write_files` (its config and weights) and `_from_folder` (the reverse); see `cards.format.kinds` for
registering it. A kind that can score text sets `scores_contexts` and fills in `_score_contexts` (token
ids in, one score per context out; higher = keep), and `score_texts` works for it; a kind that reads raw
text overrides `score_documents` instead.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import safetensors.torch
from torch import nn

from cards.format.errors import LearnerFormatError
from cards.format.kinds import learner_kind, learner_kinds
from cards.format.identity import LearnerIdentity
from cards.format.constants import CONFIG_FILE, WEIGHTS_FILE
from cards.format.metadata import LearnerMetadata
from cards.format.naming import learner_repository_name
from cards.model_card.folder_card import write_folder_card

from .errors import BaseModelMismatchError
from .fingerprint import embedding_fingerprint, embeddings_match, tokenizer_fingerprint
from .folders import copy_assets, write_folder_atomically
from .store_access import learner_store

if TYPE_CHECKING:
    import torch

    from .document_scores import DocumentScores

#: What `score_documents` can score with: the kind's plain score (predicted gain), or what its default threshold cuts.
SCORES = ("gain", "default")


class Learner:
    """A secondary learner of one registered kind, bound to the metadata that says what it was built for."""

    kind: ClassVar[str]
    #: Whether the kind scores token contexts (`_score_contexts`), so that `score_texts` can cut documents into them.
    scores_contexts: ClassVar[bool] = False

    def __init__(self, metadata: LearnerMetadata) -> None:
        self.metadata = metadata
        #: The folder the learner was loaded from or last saved to: push_to_hub sends its assets/ (plots) too.
        self.folder: Path | None = None
        self._attached = False
        self._tokenizer = None

    @property
    def identity(self) -> LearnerIdentity:
        """Kind, corpus (and pool), and base model or none: what the store files this learner under."""
        return self.metadata.identity

    @property
    def attached(self) -> bool:
        return self._attached

    def attach(self, model: nn.Module, tokenizer=None, *, check: bool = True):
        """Bind to `model` (checked against the learner's fingerprints unless `check=False`); returns self."""
        if check:
            check_base_model(self.metadata, model, tokenizer)
        self._on_attach(model)
        self._tokenizer = tokenizer
        self._attached = True
        return self

    @property
    def context_length(self) -> int:
        """Tokens per context, as built (learner.json's hyperparameters; the build default when not recorded)."""
        from .constants import DEFAULT_CONTEXT_LENGTH

        return int(self.metadata.hyperparameters.get("context_length") or DEFAULT_CONTEXT_LENGTH)

    def score_texts(self, texts: Sequence[str], *, aggregate: str = "mean") -> np.ndarray:
        """One float per document, higher = more worth training on: the `mean` (default) or `max` of its
        contexts' scores (rules for short and empty documents: `learners.document_scores`).

        Example:
            >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)
            >>> learner.score_texts(["In the beginning ...", "def f(): ..."])   # array([ 0.8, -1.2])
        """
        return self.score_documents(texts).aggregate(aggregate)

    def score_documents(self, texts: Sequence[str], *, score: str = "gain") -> DocumentScores:
        """Per-document mean and max of context scores, contexts and tokens: the kind hook behind `score_texts`.

        `score="default"` scores with what the learner's default threshold reads (`default_cut` is its cut on
        that score), so a data pipeline filters as fine-tuning does; `"gain"` is `score_texts`' score.
        Token-level kinds get it from `_score_contexts` (`_default_score_contexts`); a kind that scores raw
        text overrides this method (or `score_texts`: its scores then count as one context per document).
        """
        from .document_scores import DocumentScores, score_token_documents
        from cards.format.errors import UsageError

        if score not in SCORES:
            raise ValueError(f"Unknown score {score!r}; use one of {SCORES}.")
        if type(self).score_texts is not Learner.score_texts:   # a kind that scores whole texts overrode that
            return DocumentScores.per_document(self.score_texts(texts))
        if not self.can_score_text():
            raise UsageError(f"A {self.kind} learner cannot score text: it scores nothing a document can be cut into.")
        if self._tokenizer is None:
            raise RuntimeError("Attach the learner to its base model and tokenizer first: "
                               "learner.attach(model, tokenizer).")
        scorer = self._default_score_contexts if score == "default" else self._score_contexts
        return score_token_documents(texts, self._tokenizer, scorer, self.context_length)

    def default_cut(self) -> float | None:
        """The cut of the learner's default threshold on `score_documents(..., score="default")`' scale, for
        filtering scored documents as fine-tuning would; None for a kind without a calibrated default."""
        return None

    def default_document_cut(self) -> float | None:
        """The default's cut for whole documents on the same scale, calibrated on whole target documents (a mean
        over contexts varies less than one context's score); None for a kind or learner without one."""
        return None

    @classmethod
    def can_score_text(cls) -> bool:
        """Whether `score_texts` works for this kind (it scores contexts, or overrides a text hook)."""
        return cls.scores_contexts or cls.score_documents is not Learner.score_documents or \
            cls.score_texts is not Learner.score_texts

    def _score_contexts(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(batch, time) token ids -> (batch,) scores, higher = keep (kinds with `scores_contexts`)."""
        raise NotImplementedError

    def _default_score_contexts(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The score the default threshold cuts (`default_cut`); the plain score unless a kind says otherwise."""
        return self._score_contexts(input_ids)

    def save(self, folder: str | Path) -> Path:
        """Write the kind's files and learner.json into `folder` atomically (readers never see half of it)."""
        self.folder = write_folder_atomically(folder, self._write_learner)
        return self.folder

    def _write_learner(self, staging: Path) -> None:
        """The kind's files, learner.json and the real model card, marked unpublished (a head's Hub mixin would
        otherwise leave its generic README.md, which says nothing about the learner)."""
        self._write_files(staging)
        self.metadata.save(staging)
        write_folder_card(staging, self.metadata, repo_id=learner_repository_name(self.metadata), version=None)

    def push_to_hub(self, repo_id: str | None = None, *, version: str, store: str | Path | None = None,
                    endpoint: str | None = None, token: str | None = None):
        """Publish this learner as `version` (X.Y.Z) to `repo_id` (ORG or ORG/NAME; default: local/<its name>),
        like `learnerhub publish`: into the local store, `store`, or the Hub-compatible `endpoint`. The files of
        `assets/` (plots) in the folder it was loaded from or saved to go along.

        Returns what was published (repository, version, commit, file hashes). A failure of the Hub client
        is raised as the store's own error with one line that says what to try (as the command line says it).
        """
        with tempfile.TemporaryDirectory(prefix="learnerhub-push-") as work:
            folder = write_folder_atomically(Path(work) / "learner", self._write_learner)
            if self.folder is not None:
                copy_assets(self.folder, folder)
            return learner_store().push_folder(folder, version=version, repo_id=repo_id, store=store,
                                               endpoint=endpoint, token=token)

    @classmethod
    def load(cls, folder: str | Path, model: nn.Module | None = None, tokenizer=None):
        """Load from a folder (safetensors only; learner.json must name this kind), and attach to `model`."""
        folder = Path(folder)
        metadata = LearnerMetadata.load(folder, kind=cls.kind)
        learner = cls._from_folder(folder, metadata, read_config(folder))
        learner.folder = folder
        if model is not None:
            learner.attach(model, tokenizer)
        return learner

    # The template methods a kind fills in.
    def _on_attach(self, model: nn.Module) -> None:
        """What the kind takes from the base model when attached (nothing, by default)."""

    def _write_files(self, staging: Path) -> None:
        raise NotImplementedError

    @classmethod
    def _from_folder(cls, folder: Path, metadata: LearnerMetadata, config: dict) -> Learner:
        raise NotImplementedError


def check_base_model(metadata: LearnerMetadata, model: nn.Module, tokenizer) -> None:
    """Raise `BaseModelMismatchError`, naming both models, unless `model`/`tokenizer` are the learner's."""
    built_for = metadata.base_model.model_id or "?"
    given = getattr(model.config, "_name_or_path", None) or type(model).__name__
    if tokenizer is not None and tokenizer_fingerprint(tokenizer) != metadata.tokenizer_fingerprint:
        raise BaseModelMismatchError(
            f"This learner was built for base model {built_for!r}, but the tokenizer given (of {given!r}) has a "
            "different vocabulary. Load the learner next to its own base model, or build a learner for yours "
            f"with `learnerhub build --base-model ...`{_text_level_hint()}.")
    actual = embedding_fingerprint(model.get_input_embeddings().weight)
    if not embeddings_match(metadata.embedding_fingerprint, actual):
        expected = metadata.embedding_fingerprint
        raise BaseModelMismatchError(
            f"This learner was built for base model {built_for!r} (embeddings {expected['shape']}, "
            f"sha256 {expected['sha256'][:12]}), but the model given ({given!r}) has other input "
            f"embeddings ({actual['shape']}, sha256 {actual['sha256'][:12]}). Use the base model the learner was built "
            f"for, or build a learner for yours with `learnerhub build --base-model ...`{_text_level_hint()}.")


def _text_level_hint() -> str:
    """The way out of a base-model mismatch: a kind that reads text works with every base model."""
    kinds = [name for name in learner_kinds() if learner_kind(name).any_base_model]
    return (f", or use a text-level learner, which works with any base model (`learnerhub build --kind {kinds[0]}`)"
            if kinds else "")


def read_config(folder: Path) -> dict:
    path = folder / CONFIG_FILE
    if not path.exists():
        raise LearnerFormatError(f"{folder} is not a learner folder: {CONFIG_FILE} is missing.")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LearnerFormatError(f"{path} is not valid JSON ({error}); the learner is corrupted.") from None
    if not isinstance(config, dict):
        raise LearnerFormatError(f"{path} must hold a JSON object.")
    return config


def load_safetensors_into(module: nn.Module, folder: Path, *, beside: str | tuple[str, ...] | None = None) -> None:
    """Load weights from model.safetensors; never falls back to a pickle file. Tensors named `beside`...
    (components saved next to the module, such as a target affinity; one prefix or several) are left to their
    own reader."""
    path = folder / WEIGHTS_FILE
    if not path.exists():
        raise LearnerFormatError(f"{folder} has no {WEIGHTS_FILE}. learnerhub loads safetensors weights only and "
                                 "never unpickles a .bin/.pt file.")
    try:
        missing, unexpected = safetensors.torch.load_model(module, str(path), strict=False)
    except (safetensors.SafetensorError, RuntimeError, OSError) as error:
        raise LearnerFormatError(f"{path} is corrupted or does not fit the learner's config.json: {error}") from None
    unexpected = [name for name in unexpected if not (beside and name.startswith(beside))]
    if missing or unexpected:
        raise LearnerFormatError(f"{path} does not fit config.json (missing {sorted(missing)}, unexpected "
                                 f"{sorted(unexpected)}); the learner is corrupted.")
