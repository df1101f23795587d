"""What a text-level learner sees of a context: hashed word and character n-grams of its text.

Why text, not token ids: features of the text are the same whichever tokenizer cut the context, so one
learner serves every base model. The hashing has nothing to fit (so nothing to pickle) and is stable across
versions and machines: `polynomial` (learners.text_hashing, numpy, the default since it is ~6x
faster on character n-grams) or `murmurhash3` (scikit-learn's `HashingVectorizer`, what learners built before
it recorded; they load and score as they were built); counts are
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

from ..text_hashing import char_ngram_counts, word_ngram_counts

DEFAULT_BUCKETS = 2 ** 18
#: Words are runs of word characters (single letters included: `a`, `I`, `x` carry format).
WORD_PATTERN = r"(?u)\b\w+\b"
#: How n-grams become buckets: numpy polynomial hashes (the default) or scikit-learn's murmurhash3.
HASHINGS = ("polynomial", "murmurhash3")
#: Characters of text hashed in one pass: the numpy hashing's arrays (several per character) stay a few MB, in
#: cache and off fresh mmap'ed pages; one pass over a 512-document batch of 1.9M characters ran 5x slower.
CHUNK_CHARACTERS = 2 ** 18


@dataclass(frozen=True)
class TextFeatures:
    """The hashing settings (recorded in config.json: loading rebuilds the same features from them)."""

    buckets: int = DEFAULT_BUCKETS
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    #: `char` (n-grams across spaces and punctuation: format shows) or `char_wb` (inside words only).
    char_analyzer: str = "char"
    lowercase: bool = True
    hashing: str = "polynomial"

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
                       lowercase=bool(config["lowercase"]), hashing=str(config.get("hashing", "murmurhash3")))
        if features.buckets < 1 or features.char_analyzer not in ("char", "char_wb"):
            raise ValueError(f"buckets must be positive and char_analyzer char or char_wb, not {config}")
        if features.hashing not in HASHINGS or (features.hashing == "polynomial" and features.char_analyzer != "char"):
            raise ValueError(f"hashing must be one of {', '.join(HASHINGS)} (polynomial with the char analyzer only), "
                             f"not {config}")
        return features

    def transform(self, texts: list[str]) -> scipy.sparse.csr_matrix:
        """(len(texts), width) sparse features: log1p counts, each block L2-normalised, rows of norm <= 1.

        Texts are hashed in chunks of about `CHUNK_CHARACTERS` (a text is never split): the rows do not depend
        on which texts share a chunk."""
        chunks = list(_chunks(list(texts), CHUNK_CHARACTERS))
        if len(chunks) > 1:
            return scipy.sparse.vstack([self._transform(chunk) for chunk in chunks], format="csr")
        return self._transform(list(texts))

    def _transform(self, texts: list[str]) -> scipy.sparse.csr_matrix:
        blocks = []
        for analyzer, ngrams in (("word", self.word_ngrams), (self.char_analyzer, self.char_ngrams)):
            counts = self._counts(texts, analyzer, ngrams)
            np.log1p(counts.data, out=counts.data)
            blocks.append(normalize(counts, norm="l2") / math.sqrt(2))
        return scipy.sparse.hstack(blocks, format="csr")

    def _counts(self, texts: list[str], analyzer: str, ngrams: tuple[int, int]) -> scipy.sparse.csr_matrix:
        if self.hashing == "polynomial":
            count = word_ngram_counts if analyzer == "word" else char_ngram_counts
            return count(texts, ngrams, self.buckets, lowercase=self.lowercase)
        vectorizer = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=self.buckets,
                                       lowercase=self.lowercase, token_pattern=WORD_PATTERN,
                                       alternate_sign=False, norm=None, dtype=np.float64)
        return vectorizer.transform(texts).tocsr()


def _chunks(texts: list[str], characters: int):
    """Consecutive runs of `texts` of about `characters` characters in all (at least one text each)."""
    start, size = 0, 0
    for index, text in enumerate(texts):
        if index > start and size + len(text) > characters:
            yield texts[start:index]
            start, size = index, 0
        size += len(text)
    if start < len(texts):
        yield texts[start:]


def _pair(value: Any) -> tuple[int, int]:
    low, high = (int(v) for v in value)
    if not 1 <= low <= high:
        raise ValueError(f"an n-gram range must be 1 <= low <= high, not {value}")
    return low, high
