"""How target-like a context reads to the base model: a linear classifier over its mean input embedding.

Why: the hashed word n-gram classifier (`target_affinity.py`) and DSIR see only which words a 32-token
context holds, and most short windows of near-domain text (another project's documentation in the target's
own markup) share the target's words. The base model's input embeddings place tokens by meaning, so the mean
of a context's embeddings tells such text apart better: on R5 it separates the target's contexts from the
near-domain ones with a held-out AUC of 0.95, where the n-gram classifier reaches 0.87 and DSIR 0.79
(benchmarks/results/embedding_affinity_R5.json). It costs one embedding lookup per token, no forward pass.

Fitted with scikit-learn (standardised features, logistic regression, its regularisation chosen by
cross-validated AUC); kept as tensors (`embedding_affinity.*` in the learner's model.safetensors), never as
a pickled estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

EMBEDDING_AFFINITY_PREFIX = "embedding_affinity."
#: Inverse regularisation strengths tried by cross-validation (a few hundred dimensions, ~1,600 examples).
EMBEDDING_AFFINITY_CS = (0.001, 0.003, 0.01, 0.03, 0.1, 1.0)


@torch.no_grad()
def mean_input_embeddings(input_ids: torch.Tensor, embeddings: nn.Module) -> np.ndarray:
    """(batch, dim) float64: the mean of each row's input embeddings (rows are unpadded contexts)."""
    vectors = embeddings(input_ids.to(embeddings.weight.device)).float().mean(dim=1)
    return vectors.cpu().double().numpy()


class EmbeddingAffinity:
    """log_odds(x) = intercept + coef . (x - mean) / scale, for x a context's mean input embedding."""

    def __init__(self, coef: torch.Tensor, intercept: float, mean: torch.Tensor, scale: torch.Tensor) -> None:
        self.coef, self.mean, self.scale = (t.detach().double().cpu().contiguous() for t in (coef, mean, scale))
        self.intercept = float(intercept)

    @property
    def dimensions(self) -> int:
        return len(self.coef)

    @classmethod
    def fit(cls, target_features: np.ndarray, pool_features: np.ndarray, *, seed: int = 0) -> EmbeddingAffinity:
        """Logistic regression of target (1) against pool (0) mean embeddings."""
        from sklearn.linear_model import LogisticRegressionCV

        if not len(target_features) or not len(pool_features):
            raise ValueError("An embedding affinity needs target and pool contexts to tell apart.")
        features = np.r_[target_features, pool_features]
        labels = np.r_[np.ones(len(target_features)), np.zeros(len(pool_features))]
        mean, scale = features.mean(0), features.std(0)
        scale[scale == 0] = 1.0
        folds = max(2, min(5, len(target_features), len(pool_features)))
        with warnings.catch_warnings():   # scikit-learn 1.8 announces changes to defaults this call does not use
            warnings.simplefilter("ignore", FutureWarning)
            model = LogisticRegressionCV(Cs=list(EMBEDDING_AFFINITY_CS), cv=folds, scoring="roc_auc", max_iter=5000,
                                         random_state=seed).fit((features - mean) / scale, labels)
        return cls(torch.from_numpy(model.coef_[0]), float(model.intercept_[0]), torch.from_numpy(mean),
                   torch.from_numpy(scale))

    def log_odds(self, features: np.ndarray) -> np.ndarray:
        """Log-odds that each context is target text rather than pool text, a float64 array."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != self.dimensions:
            raise ValueError(f"The embedding affinity reads {self.dimensions}-dimensional mean embeddings; got "
                             f"shape {features.shape} (is the learner attached to its own base model?).")
        return (features - self.mean.numpy()) / self.scale.numpy() @ self.coef.numpy() + self.intercept

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f"{EMBEDDING_AFFINITY_PREFIX}coef": self.coef.float(),
                f"{EMBEDDING_AFFINITY_PREFIX}intercept": torch.tensor(self.intercept),
                f"{EMBEDDING_AFFINITY_PREFIX}mean": self.mean.float(),
                f"{EMBEDDING_AFFINITY_PREFIX}scale": self.scale.float()}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> EmbeddingAffinity | None:
        """The embedding affinity saved beside a head, or None when the file holds none (or a malformed one)."""
        parts = [tensors.get(f"{EMBEDDING_AFFINITY_PREFIX}{name}") for name in ("coef", "intercept", "mean", "scale")]
        if any(part is None for part in parts):
            return None
        coef, intercept, mean, scale = parts
        if coef.ndim != 1 or intercept.numel() != 1 or mean.shape != coef.shape or scale.shape != coef.shape:
            return None
        return cls(coef, float(intercept), mean, scale)
