"""What a text-level learner sees of a context: hashed word and character n-grams of its text.

Why text, not token ids: features of the text are the same whichever tokenizer cut the context, so one
learner serves every base model. scikit-learn's `HashingVectorizer` does the hashing (murmurhash3 with a
fixed seed: stable across versions and machines, and nothing to fit, so nothing to pickle); counts are
damped with log1p and each block (words, characters) is L2-normalised, so a long context does not score
higher for being long and neither block drowns the other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

DEFAULT_BUCKETS = 2 ** 18
#: Words are runs of word characters (single letters included: `a`, `I`, `x` carry format).
WORD_PATTERN = r"(?u)\b\w+\b"


@dataclass(frozen=True)
class TextFeatures:
    """The hashing settings (recorded in config.json: loading rebuilds the same features from them)."""

    buckets: int = DEFAULT_BUCKETS
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    #: `char` (n-grams across spaces and punctuation: format shows) or `char_wb` (inside words only).
    char_analyzer: str = "char"
    lowercase: bool = True

    @property
    def width(self) -> int:
        """Columns of the feature matrix: one block of `buckets` for words, one for characters."""
        return 2 * self.buckets

    def to_config(self) -> dict[str, Any]:
        return {**asdict(self), "word_ngrams": list(self.word_ngrams), "char_ngrams": list(self.char_ngrams),
                "word_pattern": WORD_PATTERN, "counts": "log1p", "norm": "l2 per block"}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextFeatures:
        """The features `to_config` wrote; ValueError naming what does not fit."""
        if config.get("word_pattern", WORD_PATTERN) != WORD_PATTERN or config.get("counts", "log1p") != "log1p":
            raise ValueError("its features were made with another word pattern or count transform")
        features = cls(buckets=int(config["buckets"]), word_ngrams=_pair(config["word_ngrams"]),
                       char_ngrams=_pair(config["char_ngrams"]), char_analyzer=str(config["char_analyzer"]),
                       lowercase=bool(config["lowercase"]))
        if features.buckets < 1 or features.char_analyzer not in ("char", "char_wb"):
            raise ValueError(f"buckets must be positive and char_analyzer char or char_wb, not {config}")
        return features

    def transform(self, texts: list[str]) -> scipy.sparse.csr_matrix:
        """(len(texts), width) sparse features: log1p counts, each block L2-normalised, rows of norm <= 1."""
        blocks = []
        for analyzer, ngrams in (("word", self.word_ngrams), (self.char_analyzer, self.char_ngrams)):
            vectorizer = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=self.buckets,
                                           lowercase=self.lowercase, token_pattern=WORD_PATTERN,
                                           alternate_sign=False, norm=None, dtype=np.float64)
            counts = vectorizer.transform(texts).tocsr()
            np.log1p(counts.data, out=counts.data)
            blocks.append(normalize(counts, norm="l2") / math.sqrt(2))
        return scipy.sparse.hstack(blocks, format="csr")


def _pair(value: Any) -> tuple[int, int]:
    low, high = (int(v) for v in value)
    if not 1 <= low <= high:
        raise ValueError(f"an n-gram range must be 1 <= low <= high, not {value}")
    return low, high
