"""The model-agnostic selectors a user could pick instead of a learner, as filters at the learner's own rate.

A learner is worth its probe only if it beats what a user gets without one. Two such selectors score text
alone (the contexts decoded with the base model's tokenizer), so they need no probe:

- **DSIR** (Xie et al. 2023, PyPI `data-selection`): hashed unigram+bigram models of the target and of the
  pool; a text's log importance weight log p_target(x) - log p_pool(x). Keeping the top of it is DSIR's
  deterministic resampling.
- **classifier**: a target-vs-pool logistic regression on hashed word 1-2-grams (fastText-style, scikit-learn):
  the probability that a text is target text rather than pool text.

`PeerFilter` keeps a candidate when its peer score is at least the pool's (1 - rate) quantile, so the peer
keeps the same share of the same candidates as the learner it is compared with (`learnerhub eval --peers`).
"""

from __future__ import annotations

from collections.abc import Callable

import tempfile

import numpy as np
import torch

from cards.format.errors import LearnerHubError

from ...context_filter import ContextFilter

#: Score texts, higher = more like the target.
TextScorer = Callable[[list[str]], np.ndarray]

PEERS = ("dsir", "classifier")


class PeerSelectorMissing(LearnerHubError, ImportError):
    """A peer selector's package cannot be imported (DSIR needs `data-selection`)."""


def check_peers(names: tuple[str, ...] | list[str], *, has_target: bool) -> None:
    """Why `names` cannot run as peers, raised before any model is loaded or text scored: an unknown name
    (ValueError), no target apart from the pool (ValueError), DSIR without its package (PeerSelectorMissing)."""
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        raise ValueError(f"--peers: unknown selector {unknown[0]!r}; choose from {', '.join(PEERS)}.")
    if names and not has_target:
        raise ValueError("--peers needs --target: the peers learn what the target looks like against the pool.")
    if "dsir" in names:
        from importlib.util import find_spec

        if find_spec("data_selection") is None:
            raise PeerSelectorMissing("--peers dsir needs the data-selection package: pip install "
                                      "'learnerhub[peers]' (or leave dsir out).")


def fit_dsir(target_texts: list[str], pool_texts: list[str], *, buckets: int = 10000) -> TextScorer:
    """DSIR's log importance weight toward `target_texts`, its raw distribution fitted on `pool_texts`."""
    try:
        from data_selection import HashedNgramDSIR
    except ImportError as error:
        raise PeerSelectorMissing(f"The DSIR peer needs the data-selection package, which cannot be imported "
                                  f"({error}): pip install 'learnerhub[peers]', or omit dsir.") from None

    # DSIR's constructor makes folders under cache_dir; nothing is cached when the texts are given in memory.
    with tempfile.TemporaryDirectory(prefix="learnerhub-dsir-") as cache:
        dsir = HashedNgramDSIR(raw_datasets=["pool"], target_datasets=["target"], cache_dir=cache,
                               raw_load_dataset_fn=lambda _: pool_texts, raw_parse_example_fn=None,
                               target_load_dataset_fn=lambda _: target_texts, target_parse_example_fn=None,
                               num_proc=1, ngrams=2, num_buckets=buckets, min_example_length=0)
        dsir.fit_importance_estimator(num_tokens_to_fit="all")
    return lambda texts: np.asarray([dsir.importance_estimator(dsir.featurizer(text)) for text in texts],
                                    dtype=np.float64)


def fit_classifier(target_texts: list[str], pool_texts: list[str], *, features: int = 2 ** 18,
                   seed: int = 0) -> TextScorer:
    """P(target | text) from a logistic regression of `target_texts` against `pool_texts` (hashed word 1-2-grams)."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = HashingVectorizer(n_features=features, ngram_range=(1, 2), alternate_sign=False, norm="l2")
    x = vectorizer.transform(target_texts + pool_texts)
    y = np.r_[np.ones(len(target_texts)), np.zeros(len(pool_texts))]
    model = LogisticRegression(max_iter=2000, C=1.0, random_state=seed).fit(x, y)
    return lambda texts: model.predict_proba(vectorizer.transform(texts))[:, 1]


def fit_peer(name: str, target_texts: list[str], pool_texts: list[str]) -> TextScorer:
    """The scorer of peer `name` (one of `PEERS`), fitted on the target's and the pool's texts."""
    if name == "dsir":
        return fit_dsir(target_texts, pool_texts)
    if name == "classifier":
        return fit_classifier(target_texts, pool_texts)
    raise ValueError(f"Unknown peer selector {name!r}; choose from {', '.join(PEERS)}.")


class PeerFilter(ContextFilter):
    """Keep candidates whose decoded text a peer selector scores above `cut` (before the model sees them), and
    those scored exactly `cut` with probability `tie_keep` (texts a selector knows nothing of all score alike,
    so without it a tie at the cut would keep all of them and the peer would not keep the learner's share)."""

    def __init__(self, name: str, scorer: TextScorer, tokenizer, cut: float, *, tie_keep: float = 1.0,
                 seed: int = 0) -> None:
        self.name, self.scorer, self.tokenizer, self.cut = name, scorer, tokenizer, float(cut)
        self.tie_keep = float(tie_keep)
        self.generator = torch.Generator().manual_seed(seed)

    @classmethod
    def at_rate(cls, name: str, scorer: TextScorer, tokenizer, calibration: torch.Tensor, rate: float, *,
                seed: int = 0) -> PeerFilter:
        """The filter keeping a `rate` share of contexts like `calibration` (a sample of the pool's contexts)."""
        scores = scorer(tokenizer.batch_decode(calibration, skip_special_tokens=True))
        return cls.from_scores(name, scorer, tokenizer, scores, rate, seed=seed)

    @classmethod
    def from_scores(cls, name: str, scorer: TextScorer, tokenizer, calibration_scores: np.ndarray, rate: float, *,
                    seed: int = 0) -> PeerFilter:
        """As `at_rate`, from the peer's scores of the calibration sample (scored once for every seed's rate)."""
        scores = np.asarray(calibration_scores, dtype=np.float64)
        cut = float(np.quantile(scores, 1.0 - rate))
        above, tied = float((scores > cut).mean()), float((scores == cut).mean())
        tie_keep = min(1.0, max(0.0, (rate - above) / tied)) if tied else 1.0
        return cls(name, scorer, tokenizer, cut, tie_keep=tie_keep, seed=seed)

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids, skip_special_tokens=True)
        scores = torch.as_tensor(np.asarray(self.scorer(texts), dtype=np.float64))
        tied = (scores == self.cut) & (torch.rand(len(scores), generator=self.generator, dtype=torch.float64)
                                       < self.tie_keep)
        return (scores > self.cut) | tied

    def describe(self) -> dict:
        return {"name": self.name, "cut": self.cut, "tie_keep": round(self.tie_keep, 4)}
