"""The text-level head: a ridge regression (scikit-learn) over hashed n-grams of a context's text.

Why ridge: with a few hundred labelled contexts and 2 x 2^18 hashed features, a linear model with an L2
penalty chosen on validation pairs is what the token-level bag-of-tokens head already does well, fitted in a
second. The fitted coefficients and intercept are kept as tensors (model.safetensors) and the hashing
settings in config.json, so a saved head never holds a pickled estimator and loads without any base model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse
import torch
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge
from torch import nn

from ..igf.head_training import HeadTrainingConfig, split_pairs, zscore
from .features import DEFAULT_BUCKETS, TextFeatures

HEAD_TYPE = "hashed_text_ridge"
DEFAULT_ALPHAS = (0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass
class TextHeadConfig:
    """How the head is fitted; the pair split (seed and fractions) is the IGF head's, so the two compare."""

    buckets: int = DEFAULT_BUCKETS
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    char_analyzer: str = "char"
    hashing: str = "polynomial"
    ridge_alphas: tuple[float, ...] = DEFAULT_ALPHAS
    split: HeadTrainingConfig = field(default_factory=HeadTrainingConfig)

    def features(self) -> TextFeatures:
        return TextFeatures(buckets=self.buckets, word_ngrams=self.word_ngrams, char_ngrams=self.char_ngrams,
                            char_analyzer=self.char_analyzer, hashing=self.hashing)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "split": {key: getattr(self.split, key)
                                          for key in ("seed", "validation_fraction", "test_fraction")}}


class TextRidgeHead(nn.Module):
    """score(text) = intercept + coef . features(text); coef and intercept are buffers (safetensors)."""

    head_type = HEAD_TYPE

    def __init__(self, features: TextFeatures, alpha: float = 1.0) -> None:
        super().__init__()
        self.features, self.alpha = features, alpha
        self.register_buffer("coef", torch.zeros(features.width))
        self.register_buffer("intercept", torch.zeros(()))

    def predict(self, texts: list[str]) -> np.ndarray:
        """Predicted z-scored information gain of each text, a float64 array."""
        return self.predict_features(self.features.transform(list(texts))) if texts else np.zeros(0)

    def predict_features(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        return features @ self.coef.detach().cpu().double().numpy() + float(self.intercept)

    def fit(self, features: scipy.sparse.csr_matrix, targets: np.ndarray) -> TextRidgeHead:
        """Ridge regression of `targets` on `features` (this head's `features.transform` of the texts)."""
        ridge = Ridge(alpha=self.alpha).fit(features, targets)
        with torch.no_grad():
            self.coef.copy_(torch.from_numpy(ridge.coef_.astype(np.float32)))
            self.intercept.fill_(float(ridge.intercept_))
        return self

    def head_config(self) -> dict[str, Any]:
        return {"head": self.head_type, "alpha": self.alpha, "library": "scikit-learn",
                **self.features.to_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextRidgeHead:
        """The (empty) head config.json describes; ValueError/KeyError/TypeError when it does not describe one."""
        if config.get("head") != HEAD_TYPE:
            raise ValueError(f"it names head {config.get('head')!r}, not {HEAD_TYPE!r}")
        return cls(TextFeatures.from_config(config), alpha=float(config.get("alpha", 1.0)))


def rank_correlation(predicted: np.ndarray, measured: np.ndarray) -> float:
    """Spearman's rho, 0.0 where it is undefined (constant input: JSON cannot hold NaN)."""
    if len(measured) < 3 or np.std(predicted) == 0 or np.std(measured) == 0:
        return 0.0
    rho = float(spearmanr(predicted, measured)[0])
    return 0.0 if rho != rho else rho


def fit_text_head(texts: list[str], gains: torch.Tensor,
                  config: TextHeadConfig | None = None) -> tuple[TextRidgeHead, dict, tuple[list[float], list[float]]]:
    """Fit on the training pairs for each penalty, keep the best on validation, score the untouched test pairs.

    Returns the head, its metrics (as the IGF head's: validation/test Spearman and MSE on z-scored gains)
    and the test pairs' (predicted, measured) for the build plot.
    """
    config = config or TextHeadConfig()
    if len(texts) != len(gains):
        raise ValueError(f"{len(texts)} texts but {len(gains)} gains.")
    if len(texts) < 20:
        raise ValueError(f"Training a learner needs at least 20 (context, gain) pairs; got {len(texts)}.")
    targets, label_mean, label_std = zscore(gains.float())
    targets = targets.double().numpy()
    test_idx, val_idx, train_idx = (i.numpy() for i in split_pairs(len(texts), config.split))
    features = config.features().transform(list(texts))
    best, best_key = None, None
    for alpha in config.ridge_alphas:
        head = TextRidgeHead(config.features(), alpha=alpha).fit(features[train_idx], targets[train_idx])
        predicted = head.predict_features(features[val_idx])
        key = (round(rank_correlation(predicted, targets[val_idx]), 6),
               -float(np.mean((predicted - targets[val_idx]) ** 2)))
        if best_key is None or key > best_key:
            best, best_key = head, key
    test_predicted = best.predict_features(features[test_idx])
    metrics = {"pairs": len(texts), "train_pairs": len(train_idx), "validation_pairs": len(val_idx),
               "test_pairs": len(test_idx), "validation_spearman": best_key[0], "validation_mse": -best_key[1],
               "test_spearman": rank_correlation(test_predicted, targets[test_idx]),
               "test_mse": float(np.mean((test_predicted - targets[test_idx]) ** 2)), "ridge_alpha": best.alpha,
               "label_mean": label_mean, "label_std": label_std}
    return best.eval(), metrics, (test_predicted.tolist(), targets[test_idx].tolist())
