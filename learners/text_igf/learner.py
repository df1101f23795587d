"""A text-level IGF learner: scores texts, so it works next to any base model.

Why: a token-level learner reads its base model's token ids or embeddings and is refused by any other
model. This one reads the text: `score_texts` needs no model at all, and `score(input_ids)` decodes the
ids with the tokenizer of whatever base model it is attached to (no fingerprint check), then scores the
text. Its information-gain labels were measured with one *labelling* model, recorded in learner.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
from torch import nn

from cards.format.constants import ANY_BASE_MODEL, BUILD_PLOT, CONFIG_FILE, WEIGHTS_FILE
from cards.format.errors import LearnerFormatError
from cards.format.metadata import LearnerMetadata

from ..igf.learner import InformationGainLearner
from ..document_scores import DocumentScores
from ..learner import SCORES, load_safetensors_into
from ..target_affinity import AFFINITY_PREFIX
from ..word_order import ORDER_PREFIX
from ..plots import plot_held_out_gains
from .head import TextRidgeHead

TEXT_IGF_KIND = "igf_text"


class TextInformationGainLearner(InformationGainLearner):
    """Predicts the information gain of a context from its text (hashed word and character n-grams).

    Example:
        >>> learner = load_learner("igf_text-kjv")                  # no base model needed to load or score text
        >>> learner.score_texts(["In the beginning God created the heaven and the earth."])
        >>> learner.attach(model, tokenizer)                        # any base model: scores its token ids
        >>> InformationGainFilter(learner, TopFraction(0.5))
    """

    kind = TEXT_IGF_KIND

    def attach(self, model: nn.Module | None = None, tokenizer=None, *, check: bool = True):
        """Bind to any base model's tokenizer (there is nothing to check: the learner reads text); returns self."""
        self._tokenizer = tokenizer
        self._attached = True
        return self

    def score_texts(self, texts: Sequence[str], *, aggregate: str = "mean") -> np.ndarray:
        """Standardised predicted information gain of each text (as `score`), without any base model.

        A document is scored whole (its features are normalised, whatever its length), so `aggregate`, which
        token-level kinds apply over a document's contexts, changes nothing here.
        """
        mean = self.metadata.metrics.get("prediction_mean", 0.0)
        std = self.metadata.metrics.get("prediction_std", 1.0) or 1.0
        return (self.head.predict(list(texts)) - mean) / std

    def score_documents(self, texts: Sequence[str], *, score: str = "gain") -> DocumentScores:
        """Each document scored whole: its predicted gain, or (`score="default"`, with a target affinity) gain plus
        affinity standardised on held-out target text, as `affinity_score` does for a context."""
        texts = list(texts)
        gain = self.score_texts(texts)
        if score == "default" and self.has_affinity:
            gain = self.gain_plus_affinity(gain, texts)
        elif score not in SCORES:
            raise ValueError(f"Unknown score {score!r}; use one of {SCORES}.")
        return DocumentScores.per_document(gain)

    @torch.no_grad()
    def score(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Standardised predicted information gain of each row of (batch, time) token ids of the attached
        base model: decoded with its tokenizer (special tokens such as padding dropped), then scored as text."""
        if self._tokenizer is None:
            raise RuntimeError("Attach the learner to a tokenizer to score token ids: learner.attach(model, tokenizer) "
                               "(any base model), or score text with learner.score_texts(texts).")
        texts = self._tokenizer.batch_decode(input_ids.cpu().tolist(), skip_special_tokens=True,
                                             clean_up_tokenization_spaces=False)
        return torch.from_numpy(self.score_texts(texts)).float()

    def _write_files(self, staging: Path) -> None:
        """config.json (the hashing settings), model.safetensors (coefficients and intercept), the build plot."""
        import json

        (staging / CONFIG_FILE).write_text(json.dumps(self.head.head_config(), indent=2, sort_keys=True) + "\n")
        safetensors.torch.save_file({name: tensor.contiguous() for name, tensor in self.head.state_dict().items()},
                                    str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
        self._write_affinity(staging)
        if self.held_out:
            predicted, measured = self.held_out
            labeller = self.metadata.labeller.model_id if self.metadata.labeller else "?"
            plot_held_out_gains(predicted, measured, staging / BUILD_PLOT,
                                spearman=self.metadata.metrics.get("test_spearman"),
                                title=f"text IGF learner on {self.metadata.corpus.name} (labels: {labeller})")

    @classmethod
    def _from_folder(cls, folder: Path, metadata: LearnerMetadata, config: dict) -> TextInformationGainLearner:
        try:
            head = TextRidgeHead.from_config(config)
        except (KeyError, TypeError, ValueError) as error:
            raise LearnerFormatError(f"{folder}/{CONFIG_FILE} does not describe a text-level head: {error}") from None
        load_safetensors_into(head, folder, beside=(AFFINITY_PREFIX, ORDER_PREFIX))
        if metadata.base_model.model_id != ANY_BASE_MODEL:
            raise LearnerFormatError(f"{folder}: a {TEXT_IGF_KIND!r} learner must name base model "
                                     f"{ANY_BASE_MODEL!r}, not {metadata.base_model.model_id!r}.")
        return cls(head, metadata).with_affinity_from(folder)
