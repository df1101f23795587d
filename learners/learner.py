"""An IGF learner attached to the user's base model: scores contexts, saves and loads itself safely.

Like a PEFT adapter, the learner file holds only its own small head; the base model (tokenizer and
input embeddings) is passed in by the user, and attaching checks it is the one the learner was built
for.
"""

from __future__ import annotations

import json
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

from .errors import BaseModelMismatchError, LearnerFormatError
from .fingerprint import embedding_fingerprint, embeddings_match, tokenizer_fingerprint
from .folders import write_folder_atomically
from .bag_of_tokens_head import BagOfTokensHead
from .igf_head import InformationGainHead
from .metadata import BUILD_PLOT, CONFIG_FILE, WEIGHTS_FILE, LearnerMetadata
from .plots import plot_held_out_gains

IGF_KIND = "igf"
#: The heads an IGF learner can have, by the `head` field of its config.json (absent: conv, the first one).
IGF_HEADS = {cls.head_type: cls for cls in (InformationGainHead, BagOfTokensHead)}


def check_base_model(metadata: LearnerMetadata, model: nn.Module, tokenizer) -> None:
    """Raise `BaseModelMismatchError`, naming both models, unless `model`/`tokenizer` are the learner's."""
    built_for = metadata.base_model.get("model_id", "?")
    given = getattr(model.config, "_name_or_path", None) or type(model).__name__
    if tokenizer is not None and tokenizer_fingerprint(tokenizer) != metadata.tokenizer_fingerprint:
        raise BaseModelMismatchError(
            f"This learner was built for base model {built_for!r}, but the tokenizer given (of {given!r}) has a "
            "different vocabulary. Load the learner next to its own base model, or build a learner for yours "
            "with `learnerhub build --base-model ...`.")
    actual = embedding_fingerprint(model.get_input_embeddings().weight)
    if not embeddings_match(metadata.embedding_fingerprint, actual):
        expected = metadata.embedding_fingerprint
        raise BaseModelMismatchError(
            f"This learner was built for base model {built_for!r} (embeddings {expected['shape']}, "
            f"sha256 {expected['sha256'][:12]}), but the model given ({given!r}) has other input "
            f"embeddings ({actual['shape']}, sha256 {actual['sha256'][:12]}). Use the base model the learner was built "
            "for, or build a learner for yours with `learnerhub build --base-model ...`.")


class InformationGainLearner:
    """Predicts the information gain of contexts from the base model's (frozen) input embeddings.

    Example:
        >>> learner = InformationGainLearner.load("igf-smollm2-kjv", model, tokenizer)
        >>> scores = learner.score(batch_of_token_ids)   # z-scored predicted information gain
    """

    kind = IGF_KIND

    def __init__(self, head: InformationGainHead | BagOfTokensHead, metadata: LearnerMetadata) -> None:
        self.head = head.eval()
        self.metadata = metadata
        self.held_out: tuple[list[float], list[float]] | None = None   # (predicted, measured), set by the build
        self._embeddings: nn.Module | None = None

    @property
    def attached(self) -> bool:
        return self._embeddings is not None

    def attach(self, model: nn.Module, tokenizer=None, *, check: bool = True) -> "InformationGainLearner":
        """Use `model`'s input embeddings (by reference: nothing is copied, the model is not changed)."""
        if check:
            check_base_model(self.metadata, model, tokenizer)
        self._embeddings = model.get_input_embeddings()
        self.head.to(self._embeddings.weight.device)
        return self

    @torch.no_grad()
    def score(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Standardised predicted information gain of each context in a (batch, time) tensor of token ids.

        Scores are in standard deviations of the learner's own predictions over the contexts it was
        trained on, so a threshold of +1 keeps about the top sixth whatever the learner's accuracy.
        """
        if self._embeddings is None:
            raise RuntimeError("Attach the learner to its base model first: learner.attach(model, tokenizer).")
        raw = self.head.score_contexts(input_ids, self._embeddings)
        mean = self.metadata.metrics.get("prediction_mean", 0.0)
        std = self.metadata.metrics.get("prediction_std", 1.0) or 1.0
        return (raw - mean) / std

    def score_quantile(self, q: float) -> float:
        """The score below which a fraction `q` of the calibration contexts fell (normal, if not recorded)."""
        quantiles = self.metadata.metrics.get("prediction_quantiles")
        if not quantiles:
            from scipy.stats import norm

            return float(norm.ppf(min(max(q, 1e-6), 1 - 1e-6)))
        position = min(max(q, 0.0), 1.0) * (len(quantiles) - 1)
        low = int(position)
        high = min(low + 1, len(quantiles) - 1)
        return float(quantiles[low] + (quantiles[high] - quantiles[low]) * (position - low))

    def save(self, folder: str | Path) -> Path:
        """Write config.json, model.safetensors, learner.json, a default README.md (and the build's plot)."""

        def write(staging: Path) -> None:
            self.head.save_pretrained(staging, config=self.head.head_config())
            self.metadata.save(staging)
            if self.held_out:
                predicted, measured = self.held_out
                plot_held_out_gains(predicted, measured, staging / BUILD_PLOT,
                                    spearman=self.metadata.metrics.get("test_spearman"),
                                    title=f"IGF learner on {self.metadata.corpus['name']}: predicted vs measured gain")

        return write_folder_atomically(folder, write)

    @classmethod
    def load(cls, folder: str | Path, model: nn.Module | None = None, tokenizer=None) -> "InformationGainLearner":
        """Load from a folder (safetensors only), and attach to `model` when given."""
        folder = Path(folder)
        metadata = LearnerMetadata.load(folder, kind=IGF_KIND)
        head = head_from_config(read_config(folder), folder)
        load_safetensors_into(head, folder)
        learner = cls(head, metadata)
        if model is not None:
            learner.attach(model, tokenizer)
        return learner


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


def head_from_config(config: dict, folder: Path) -> InformationGainHead | BagOfTokensHead:
    """The (empty) head that config.json describes; its weights are loaded separately."""
    options = dict(config)
    head_type = options.pop("head", InformationGainHead.head_type)
    if head_type not in IGF_HEADS:
        raise LearnerFormatError(f"{folder}/{CONFIG_FILE} names IGF head {head_type!r}; this learnerhub knows "
                                 f"{sorted(IGF_HEADS)}. Upgrade learnerhub.")
    try:
        return IGF_HEADS[head_type](**options)
    except TypeError as error:
        raise LearnerFormatError(f"{folder}/{CONFIG_FILE} does not describe a {head_type} head: {error}") from None


def load_safetensors_into(module: nn.Module, folder: Path) -> None:
    """Load weights from model.safetensors; never falls back to a pickle file."""
    path = folder / WEIGHTS_FILE
    if not path.exists():
        raise LearnerFormatError(f"{folder} has no {WEIGHTS_FILE}. learnerhub loads safetensors weights only and "
                                 "never unpickles a .bin/.pt file.")
    try:
        missing, unexpected = safetensors.torch.load_model(module, str(path), strict=False)
    except (safetensors.SafetensorError, RuntimeError, OSError) as error:
        raise LearnerFormatError(f"{path} is corrupted or does not fit the learner's config.json: {error}") from None
    if missing or unexpected:
        raise LearnerFormatError(f"{path} does not fit config.json (missing {sorted(missing)}, unexpected "
                                 f"{sorted(unexpected)}); the learner is corrupted.")
