"""The model-agnostic selectors a user would pick instead of a learner, scoring the same pool contexts: DSIR and
a hashed n-gram target-vs-pool classifier, as the library fits them for `learnerhub eval --peers`
(`learners.finetuning.evaluation.peer_selectors`), applied here to a whole probed table of contexts at once.

Both see text only (the contexts decoded with the base model's tokenizer), so they need no probe.
"""

from __future__ import annotations

import torch

from learners.finetuning.evaluation.peer_selectors import fit_classifier, fit_dsir


def dsir_scores(pool_texts: list[str], target_texts: list[str], *, buckets: int = 10000) -> torch.Tensor:
    """DSIR's log importance weight of every pool text, fitted on the pool itself and the target texts."""
    scores = fit_dsir(target_texts, pool_texts, buckets=buckets)(pool_texts)
    return torch.tensor(scores, dtype=torch.float32)


def classifier_scores(pool_texts: list[str], target_texts: list[str], train_pool_texts: list[str],
                      *, features: int = 2 ** 18, seed: int = 0) -> torch.Tensor:
    """P(target | text) of every pool text, from a classifier trained on target texts vs `train_pool_texts`
    (a separate draw of the pool, so the scored contexts are not its training examples)."""
    scores = fit_classifier(target_texts, train_pool_texts, features=features, seed=seed)(pool_texts)
    return torch.tensor(scores, dtype=torch.float32)
