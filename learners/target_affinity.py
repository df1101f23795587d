"""How much a context looks like the target rather than the rest of the pool: a target-vs-pool classifier.

Why: one-step information gain averaged over the objective set rewards whatever teaches the target's
majority format, so near-domain text (another project's documentation in the same markup) earns the
labels of the target itself: in the realistic regime R5 the measured gain keeps 97% of near-domain
contexts at the target's 10% quantile (benchmarks/results/regimes_R5.json). A classifier of target vs pool
text on hashed word uni- and bigrams (the features of DSIR and of fastText-style filters) tells them
apart; added to the predicted gain, each standardised on held-out target text, it is the `affinity`
threshold's score.

The classifier is scikit-learn's logistic regression; its coefficients and intercept are kept as tensors
(`affinity.coef`, `affinity.intercept` in the learner's model.safetensors), never as a pickled estimator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

AFFINITY_PREFIX = "affinity."
AFFINITY_BUCKETS = 2 ** 18
AFFINITY_NGRAMS = (1, 2)


def affinity_features(texts: Sequence[str], buckets: int = AFFINITY_BUCKETS):
    """(len(texts), buckets) sparse rows: hashed word uni- and bigram counts, L2-normalised (nothing fitted)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(n_features=buckets, ngram_range=AFFINITY_NGRAMS, alternate_sign=False, norm="l2")
    return vectorizer.transform(list(texts))


class TargetAffinity:
    """log_odds(text) = intercept + coef . features(text): how much more target-like than pool-like it reads."""

    def __init__(self, coef: torch.Tensor, intercept: float) -> None:
        self.coef = coef.detach().float().cpu().contiguous()
        self.intercept = float(intercept)

    @property
    def buckets(self) -> int:
        return len(self.coef)

    @classmethod
    def fit(cls, target_texts: Sequence[str], pool_texts: Sequence[str], *, buckets: int = AFFINITY_BUCKETS,
            seed: int = 0) -> TargetAffinity:
        """Logistic regression of target (1) against pool (0) texts."""
        from sklearn.linear_model import LogisticRegression

        if not target_texts or not pool_texts:
            raise ValueError("A target affinity needs target texts and pool texts to tell apart.")
        features = affinity_features([*target_texts, *pool_texts], buckets)
        labels = np.r_[np.ones(len(target_texts)), np.zeros(len(pool_texts))]
        model = LogisticRegression(max_iter=2000, C=1.0, random_state=seed).fit(features, labels)
        return cls(torch.from_numpy(model.coef_[0].astype(np.float32)), float(model.intercept_[0]))

    def log_odds(self, texts: Sequence[str]) -> np.ndarray:
        """Log-odds that each text is target text rather than pool text, a float64 array."""
        if not texts:
            return np.zeros(0)
        return affinity_features(texts, self.buckets) @ self.coef.double().numpy() + self.intercept

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f"{AFFINITY_PREFIX}coef": self.coef, f"{AFFINITY_PREFIX}intercept": torch.tensor(self.intercept)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> TargetAffinity | None:
        """The affinity saved beside a head, or None when the file holds none (learners built without a pool)."""
        coef, intercept = tensors.get(f"{AFFINITY_PREFIX}coef"), tensors.get(f"{AFFINITY_PREFIX}intercept")
        if coef is None or intercept is None or coef.ndim != 1 or intercept.numel() != 1:
            return None
        return cls(coef, float(intercept))
