"""An IGF learner attached to the user's base model: scores contexts by predicted information gain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from cards.format.errors import LearnerFormatError, UsageError
from cards.format.constants import BUILD_PLOT, CONFIG_FILE, WEIGHTS_FILE
from cards.format.metadata import LearnerMetadata

from ..constants import DEFAULT_TARGET_QUANTILE
from ..learner import Learner, load_safetensors_into
from ..plots import plot_held_out_gains
from ..embedding_affinity import EMBEDDING_AFFINITY_PREFIX, EmbeddingAffinity, mean_input_embeddings
from ..target_affinity import AFFINITY_PREFIX, TargetAffinity
from ..word_order import ORDER_PREFIX, WordOrderModel
from .bag_of_tokens_head import BagOfTokensHead
from .conv_head import InformationGainHead

IGF_KIND = "igf"
#: learner.json metrics: the 0th..100th percentiles of held-out target documents' mean default scores.
DOCUMENT_QUANTILES = "affinity_target_document_quantiles"
#: The heads an IGF learner can have, by the `head` field of its config.json (absent: conv, the first one).
IGF_HEADS = {cls.head_type: cls for cls in (InformationGainHead, BagOfTokensHead)}


class InformationGainLearner(Learner):
    """Predicts the information gain of contexts from the base model's (frozen) input embeddings.

    Example:
        >>> learner = InformationGainLearner.load("igf-smollm2-kjv", model, tokenizer)
        >>> scores = learner.score(batch_of_token_ids)   # z-scored predicted information gain
        >>> learner.score_texts(documents)                 # mean over each document's contexts
    """

    kind = IGF_KIND
    scores_contexts = True

    def __init__(self, head: InformationGainHead | BagOfTokensHead, metadata: LearnerMetadata) -> None:
        super().__init__(metadata)
        self.head = head.eval()
        self.held_out: tuple[list[float], list[float]] | None = None   # (predicted, measured), set by the build
        self.affinity: TargetAffinity | None = None   # target-vs-pool classifier, for learners built with a pool
        self.word_order: WordOrderModel | None = None  # the target's word bigrams, beside the affinity
        self.embedding_affinity: EmbeddingAffinity | None = None  # target vs pool over mean input embeddings
        self._embeddings: nn.Module | None = None

    def _on_attach(self, model: nn.Module) -> None:
        """Use `model`'s input embeddings (by reference: nothing is copied, the model is not changed)."""
        self._embeddings = model.get_input_embeddings()
        self.head.to(self._embeddings.weight.device)

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

    def _score_contexts(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.score(input_ids)

    @torch.no_grad()
    def affinity_score(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Predicted gain plus target affinity, each standardised on held-out target text: the `affinity`
        threshold's score (keeps what is both informative and target-like). Needs a learner built with a pool."""
        self._require_affinity()
        if self._tokenizer is None:
            raise RuntimeError("Attach the learner to its base model and tokenizer first: "
                               "learner.attach(model, tokenizer).")
        texts = self._tokenizer.batch_decode(input_ids.cpu().tolist(), skip_special_tokens=True,
                                             clean_up_tokenization_spaces=False)
        return torch.as_tensor(self.gain_plus_affinity(self.score(input_ids).numpy(), texts,
                                                       self.embedding_log_odds(input_ids)), dtype=torch.float32)

    def input_embedding_means(self, input_ids: torch.Tensor) -> np.ndarray | None:
        """Each context's mean input embedding in the attached base model, or None when none is attached (a kind
        that reads text)."""
        return None if self._embeddings is None else mean_input_embeddings(input_ids, self._embeddings)

    def embedding_log_odds(self, input_ids: torch.Tensor) -> np.ndarray | None:
        """The embedding affinity's log-odds of each context, or None for a learner that carries none."""
        if self.embedding_affinity is None or self._embeddings is None:
            return None
        return self.embedding_affinity.log_odds(self.input_embedding_means(input_ids))

    def gain_plus_affinity(self, gain: np.ndarray, texts: list[str],
                           embedding_odds: np.ndarray | None = None) -> np.ndarray:
        """The `affinity` score of texts whose standardised gain is `gain`: see `combined_target_score`."""
        metrics = self._require_affinity()
        order = self.word_order.log_ratio(texts) if self.word_order is not None else None
        return combined_target_score(metrics, np.asarray(gain, dtype=np.float64), self.affinity.log_odds(texts), order,
                                     embedding_odds)

    def _default_score_contexts(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.affinity_score(input_ids) if self.has_affinity else self.score(input_ids)

    def default_cut(self) -> float:
        """The default threshold's cut (affinity:0.1 with a target affinity, else target:0.1), as fine-tuning uses."""
        from .thresholds import DefaultLevel

        return DefaultLevel().resolve(self).value

    def default_document_cut(self) -> float | None:
        """The default's cut for whole documents scored by the mean of their contexts' default scores: the same
        quantile of held-out target documents' means (`document_cut.py`); None when the learner records none."""
        quantiles = self.metadata.metrics.get(DOCUMENT_QUANTILES)
        return interpolate_quantile(quantiles, DEFAULT_TARGET_QUANTILE) if quantiles and self.has_affinity else None

    @property
    def has_affinity(self) -> bool:
        """Whether it carries a target affinity (built from a pool with --target, by a learnerhub that records one)."""
        return self.affinity is not None and "affinity_target_quantiles" in self.metadata.metrics

    def affinity_quantile(self, q: float) -> float:
        """The affinity score below which a fraction `q` of held-out target contexts fell."""
        return interpolate_quantile(self._require_affinity()["affinity_target_quantiles"], q)

    def _require_affinity(self) -> dict:
        metrics = self.metadata.metrics
        if not self.has_affinity:
            why = "before learnerhub recorded one" if self.metadata.pool else "without a separate pool"
            raise UsageError(f"This learner has no target affinity (it was built {why}); use `target` (or the "
                             "default, which falls back to it), or rebuild it from a pool with --target.")
        return metrics

    def _write_affinity(self, staging: Path) -> None:
        """Add the target affinity's tensors to model.safetensors (written by the head just before)."""
        if self.affinity is None:
            return
        import safetensors.torch

        path = staging / WEIGHTS_FILE
        order = self.word_order.tensors() if self.word_order is not None else {}
        embedding = self.embedding_affinity.tensors() if self.embedding_affinity is not None else {}
        tensors = {**safetensors.torch.load_file(str(path)), **self.affinity.tensors(), **order, **embedding}
        safetensors.torch.save_file(tensors, str(path), metadata={"format": "pt"})

    def score_quantile(self, q: float) -> float:
        """The score below which a fraction `q` of the pool's calibration contexts fell (normal, if not recorded)."""
        return interpolate_quantile(self.metadata.metrics.get("prediction_quantiles"), q)

    def target_score_quantile(self, q: float) -> float:
        """The score below which a fraction `q` of held-out *target* contexts fell.

        Learners built before target calibration existed have only the pool's quantiles; for a learner
        built without `--target` those are the target's.
        """
        quantiles = self.metadata.metrics.get("target_prediction_quantiles")
        return interpolate_quantile(quantiles or self.metadata.metrics.get("prediction_quantiles"), q)

    def _write_files(self, staging: Path) -> None:
        """config.json and model.safetensors (the head), and the build's plot when there is one."""
        self.head.save_pretrained(staging, config=self.head.head_config())
        self._write_affinity(staging)
        if self.held_out:
            predicted, measured = self.held_out
            plot_held_out_gains(predicted, measured, staging / BUILD_PLOT,
                                spearman=self.metadata.metrics.get("test_spearman"),
                                title=f"IGF learner on {self.metadata.corpus.name}: predicted vs measured gain")

    @classmethod
    def _from_folder(cls, folder: Path, metadata: LearnerMetadata, config: dict) -> InformationGainLearner:
        head = head_from_config(config, folder)
        load_safetensors_into(head, folder, beside=(AFFINITY_PREFIX, ORDER_PREFIX, EMBEDDING_AFFINITY_PREFIX))
        return cls(head, metadata).with_affinity_from(folder)

    def with_affinity_from(self, folder: Path) -> InformationGainLearner:
        """Read the target affinity (and the target's word-order model) saved beside the head, if any; returns self."""
        import safetensors.torch

        tensors = safetensors.torch.load_file(str(folder / WEIGHTS_FILE))
        self.affinity = TargetAffinity.from_tensors({k: v for k, v in tensors.items() if k.startswith(AFFINITY_PREFIX)})
        self.word_order = WordOrderModel.from_tensors({k: v for k, v in tensors.items() if k.startswith(ORDER_PREFIX)})
        self.embedding_affinity = EmbeddingAffinity.from_tensors(
            {k: v for k, v in tensors.items() if k.startswith(EMBEDDING_AFFINITY_PREFIX)})
        return self


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


def interpolate_quantile(quantiles: list[float] | None, q: float) -> float:
    """Linear interpolation in a recorded list of evenly spaced quantiles (the normal's, if none)."""
    if not quantiles:
        from scipy.stats import norm

        return float(norm.ppf(min(max(q, 1e-6), 1 - 1e-6)))
    position = min(max(q, 0.0), 1.0) * (len(quantiles) - 1)
    low = int(position)
    high = min(low + 1, len(quantiles) - 1)
    return float(quantiles[low] + (quantiles[high] - quantiles[low]) * (position - low))


def combined_target_score(metrics: dict, gain: np.ndarray, odds: np.ndarray, order: np.ndarray | None,
                          embedding_odds: np.ndarray | None = None) -> np.ndarray:
    """Standardised gain plus standardised affinity log-odds, each on held-out target text; with an embedding
    affinity (learners that read token ids), minus how far its log-odds fall below the target's mean, in the
    target's standard deviations (it vetoes what the base model places away from the target, never vouches: a
    target whose contexts all look alike would otherwise let its extremes outweigh the rest); with a word-order
    model, minus how far a text's word-order ratio falls below the target's `order_gate` (the ratio of its
    lowest 2%), in the target's standard deviations: zero for text in the target's order, strongly negative
    for its words in no order. The one formula of the `affinity` score, for contexts and for documents."""
    total = ((gain - metrics["gain_target_mean"]) / metrics["gain_target_std"]
             + (odds - metrics["affinity_target_mean"]) / metrics["affinity_target_std"])
    if embedding_odds is not None and "embedding_target_mean" in metrics:   # a veto: below the target's mean only
        total = total + np.minimum(0.0, (embedding_odds - metrics["embedding_target_mean"])
                                   / metrics["embedding_target_std"])
    if order is not None and "order_gate" in metrics:   # order_weight: the spread of the sum above (1 if unrecorded)
        total = total + metrics.get("order_weight", 1.0) * np.minimum(
            0.0, (order - metrics["order_gate"]) / metrics["order_target_std"])
    return total
