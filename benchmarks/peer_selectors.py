"""The model-agnostic selectors a user would pick instead of a learner, scoring the same pool contexts.

- DSIR (Xie et al. 2023, PyPI `data-selection`): hashed unigram+bigram bag-of-words models of the
  target and of the pool; a context's log importance weight log p_target(x) - log p_pool(x). Top-k by
  weight is DSIR's deterministic resampling.
- A target-vs-pool classifier on hashed word n-grams (fastText-style, scikit-learn's HashingVectorizer
  and logistic regression): the probability that a context is target text rather than pool text.

Both see text only (the contexts decoded with the base model's tokenizer), so they need no probe.
"""

from __future__ import annotations

import numpy as np
import torch


def dsir_scores(pool_texts: list[str], target_texts: list[str], *, buckets: int = 10000) -> torch.Tensor:
    """DSIR's log importance weight of every pool text, fitted on the pool itself and the target texts."""
    from data_selection import HashedNgramDSIR

    dsir = HashedNgramDSIR(raw_datasets=["pool"], target_datasets=["target"], cache_dir="/tmp/unused-dsir-cache",
                           raw_load_dataset_fn=lambda _: pool_texts, raw_parse_example_fn=None,
                           target_load_dataset_fn=lambda _: target_texts, target_parse_example_fn=None,
                           num_proc=1, ngrams=2, num_buckets=buckets, min_example_length=0)
    dsir.fit_importance_estimator(num_tokens_to_fit="all")
    weights = [dsir.importance_estimator(dsir.featurizer(text)) for text in pool_texts]
    return torch.tensor(np.asarray(weights, dtype=np.float64), dtype=torch.float32)


def classifier_scores(pool_texts: list[str], target_texts: list[str], train_pool_texts: list[str],
                      *, features: int = 2 ** 18, seed: int = 0) -> torch.Tensor:
    """P(target | text) of every pool text, from a classifier trained on target texts vs `train_pool_texts`
    (a separate draw of the pool, so the scored contexts are not its training examples)."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = HashingVectorizer(n_features=features, ngram_range=(1, 2), alternate_sign=False, norm="l2")
    x = vectorizer.transform(target_texts + train_pool_texts)
    y = np.r_[np.ones(len(target_texts)), np.zeros(len(train_pool_texts))]
    model = LogisticRegression(max_iter=2000, C=1.0, random_state=seed).fit(x, y)
    return torch.tensor(model.predict_proba(vectorizer.transform(pool_texts))[:, 1], dtype=torch.float32)
