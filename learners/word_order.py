"""Whether a text reads in the target's word order: a word bigram model of the target against its unigram model.

Why: predicted gain and the target affinity read bags of words and tokens, so text made of the target's own
words in no order (R3's token-shuffled passages, spam that stuffs a domain's words) passes both: the default
kept 22.6% of R3's junk (benchmarks/README.md). A bigram model fitted on target text scores each word given
the one before it; against the unigram model of the same text, a context in the target's word order gains
and word salad loses (with it the default keeps 5.4% of R3's junk: benchmarks/results/word_order_default.json).
`log_ratio` is that per-word mean. CCNet filters web text by an n-gram model's perplexity the same way;
KenLM, its tool, needs a C++ build to train (`lmplz`) and nltk.lm counts in Python per n-gram, so this
model is numpy: words hashed as `learners.text_hashing` does, absolutely discounted bigrams interpolated
with add-one unigrams, saved as sorted keys and counts (`order.*` tensors in model.safetensors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .text_hashing import word_hashes

ORDER_PREFIX = "order."
DISCOUNT = 0.75
#: Held-out target text below this quantile of the word-order ratio starts to pay a penalty (the gate).
ORDER_GATE_QUANTILE = 0.02
#: The most target text (in tokens of the base model) a word-order model is fitted on: ~8M characters.
ORDER_FIT_TOKENS = 2_000_000
_PAIR_MIX = np.uint64(0x9E3779B97F4A7C15)


def _bigram_keys(words: np.ndarray, text_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first word, second word, pair key) of every two consecutive words inside one text."""
    same = text_of[:-1] == text_of[1:]
    first, second = words[:-1][same], words[1:][same]
    with np.errstate(over="ignore"):
        keys = first * _PAIR_MIX + second
    return first, second, keys


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted, as int64) and how often each occurs."""
    distinct, counts = np.unique(keys.view(np.int64), return_counts=True)
    return distinct, counts.astype(np.float64)


def _find(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, found) of every key in the sorted `table`: read values as np.where(found, values[position], 0)."""
    if len(table) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    keys = keys.view(np.int64)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return at, table[at] == keys


class WordOrderModel:
    """Bigram counts of the target's words: `log_ratio(texts)` = mean over a text's word pairs of
    log P_bigram(word | previous word) - log P_unigram(word)."""

    def __init__(self, unigram_keys: np.ndarray, unigram_counts: np.ndarray, context_counts: np.ndarray,
                 followers: np.ndarray, bigram_keys: np.ndarray, bigram_counts: np.ndarray) -> None:
        self.unigram_keys, self.unigram_counts = unigram_keys, unigram_counts
        self.context_counts, self.followers = context_counts, followers   # per unigram key, as a first word
        self.bigram_keys, self.bigram_counts = bigram_keys, bigram_counts
        self.total = float(unigram_counts.sum())

    @classmethod
    def fit(cls, texts: Sequence[str]) -> WordOrderModel:
        """Count the words and word pairs of the target's texts."""
        words, text_of = word_hashes(list(texts))
        unigram_keys, unigram_counts = _counted(words)
        first, _, pairs = _bigram_keys(words, text_of)
        bigram_keys, where, bigram_counts = np.unique(pairs.view(np.int64), return_index=True, return_counts=True)
        bigram_counts = bigram_counts.astype(np.float64)
        pair_first = first.view(np.int64)[where]     # the first word of each distinct pair
        # per first word: how many pairs start with it and how many distinct words follow it
        context_counts = np.zeros(len(unigram_keys))
        followers = np.zeros(len(unigram_keys))
        if len(pairs):
            np.add.at(context_counts, np.searchsorted(unigram_keys, first.view(np.int64)), 1.0)
            np.add.at(followers, np.searchsorted(unigram_keys, pair_first), 1.0)
        return cls(unigram_keys, unigram_counts, context_counts, followers, bigram_keys, bigram_counts)

    def log_ratio(self, texts: Sequence[str]) -> np.ndarray:
        """Per text, the mean log-likelihood ratio of its words in order (bigram) to out of order (unigram),
        float64; 0 for a text of fewer than two words."""
        texts = list(texts)
        if not texts:
            return np.zeros(0)
        words, text_of = word_hashes(texts)
        first, second, pairs = _bigram_keys(words, text_of)
        at, found = _find(self.unigram_keys, second)
        unigram = (np.where(found, self.unigram_counts[at], 0.0) + 1.0) / (self.total + len(self.unigram_keys) + 1.0)
        at, found = _find(self.unigram_keys, first)
        context = np.where(found, self.context_counts[at], 0.0)
        followers = np.where(found, self.followers[at], 0.0)
        at, found = _find(self.bigram_keys, pairs)
        pair = np.where(found, self.bigram_counts[at], 0.0)
        seen_context = context > 0
        safe = np.where(seen_context, context, 1.0)
        interpolated = np.maximum(pair - DISCOUNT, 0.0) / safe + DISCOUNT * followers / safe * unigram
        bigram = np.where(seen_context, interpolated, unigram)
        ratio = np.log(bigram) - np.log(unigram)
        owner = text_of[:-1][text_of[:-1] == text_of[1:]] if len(text_of) else np.zeros(0, np.int64)
        totals = np.bincount(owner, weights=ratio, minlength=len(texts))
        counts = np.bincount(owner, minlength=len(texts))
        return np.where(counts > 0, totals / np.maximum(counts, 1), 0.0)

    def tensors(self) -> dict[str, torch.Tensor]:
        arrays = {"unigram_keys": self.unigram_keys, "unigram_counts": self.unigram_counts,
                  "context_counts": self.context_counts, "followers": self.followers,
                  "bigram_keys": self.bigram_keys, "bigram_counts": self.bigram_counts}
        return {ORDER_PREFIX + name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in arrays.items()}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> WordOrderModel | None:
        """The model saved beside a head, or None when the file holds none (learners built before it existed)."""
        names = ("unigram_keys", "unigram_counts", "context_counts", "followers", "bigram_keys", "bigram_counts")
        found = [tensors.get(ORDER_PREFIX + name) for name in names]
        if any(tensor is None or tensor.ndim != 1 for tensor in found):
            return None
        arrays = [tensor.numpy() for tensor in found]
        if len({len(a) for a in arrays[:4]}) != 1 or len(arrays[4]) != len(arrays[5]):
            return None
        return cls(*arrays)
