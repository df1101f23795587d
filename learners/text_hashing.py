"""Hashed word and character n-gram counts of many texts at once, in numpy: a few array passes per batch.

Why not scikit-learn's `HashingVectorizer` (murmurhash3 of every n-gram string): it builds each n-gram as a
Python string, about 0.5 MB of text a second for character 3-5-grams, the bound of scoring a corpus.
Here every n-gram's hash is a polynomial hash over the text's code points, read off prefix sums in one
pass (arithmetic mod 2^64, where the base is odd and so invertible), mixed and cut into buckets; counts
are summed per (text, bucket). The same text gives the same buckets on every machine and numpy version
(fixed constants, integer arithmetic only). Word n-grams follow `\\w+` (word characters: `str.isalnum()`
or `_`, as Python's `re` has them); character n-grams are taken after runs of whitespace are folded to
one space, as scikit-learn's `char` analyzer does.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse

_BASE = np.uint64(0x100000001B3)                 # odd: invertible mod 2^64
_BASE_INVERSE = np.uint64(pow(0x100000001B3, -1, 2 ** 64))
_MIX = np.uint64(0x9E3779B97F4A7C15)
_WORD_MIX = np.uint64(0xC2B2AE3D27D4EB4F)
_WHITESPACE = re.compile(r"\s\s+")
_SEPARATOR = "\x00"                                # between texts: neither a word character nor kept in n-grams


class _Codes:
    """The texts' code points in one array, and per position: which text, and how far to its end."""

    def __init__(self, texts: list[str]) -> None:
        self.count = len(texts)
        lengths = np.fromiter((len(text) + 1 for text in texts), dtype=np.int64, count=len(texts))
        joined = _SEPARATOR.join(texts) + _SEPARATOR
        self.codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        ends = np.cumsum(lengths) - 1                                     # the separator after each text
        self.text_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        self.room = np.repeat(ends, lengths) - np.arange(len(self.codes))  # characters left before the separator
        with np.errstate(over="ignore"):
            powers = np.full(len(self.codes), _BASE, dtype=np.uint64)
            powers[0] = 1
            self.powers = np.cumprod(powers, dtype=np.uint64)                    # P^i mod 2^64
            inverse = np.full(len(self.codes), _BASE_INVERSE, dtype=np.uint64)
            inverse[0] = 1
            weighted = (self.codes + np.uint64(1)) * np.cumprod(inverse, dtype=np.uint64)
            self.prefix = self.powers * np.cumsum(weighted, dtype=np.uint64)    # sum c_j P^(i-j), j <= i

    def span_hashes(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The polynomial hash of codes[start:start+length] for every (start, length)."""
        with np.errstate(over="ignore"):
            last = self.prefix[starts + lengths - 1]
            before = np.where(starts > 0, self.prefix[np.maximum(starts - 1, 0)], np.uint64(0))
            return last - before * self.powers[lengths]


def _buckets(hashes: np.ndarray, salt: int, buckets: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        mixed = (hashes + np.uint64(salt)) * _MIX
        mixed ^= mixed >> np.uint64(31)
        mixed *= _WORD_MIX
        mixed ^= mixed >> np.uint64(29)
    return (mixed % np.uint64(buckets)).astype(np.int64)


def _counts(rows: list[np.ndarray], columns: list[np.ndarray], texts: int, buckets: int) -> scipy.sparse.csr_matrix:
    """(texts, buckets) counts of the (row, column) pairs, duplicates summed (one sort of the pairs' keys)."""
    keys = np.concatenate([row * buckets + column for row, column in zip(rows, columns)]) if rows else \
        np.zeros(0, np.int64)
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    distinct = keys[starts]
    counts = np.diff(np.append(starts, len(keys))).astype(np.float64)
    row = distinct // buckets
    indptr = np.zeros(texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=texts), out=indptr[1:])
    return scipy.sparse.csr_matrix((counts, (distinct - row * buckets).astype(np.int32), indptr),
                                   shape=(texts, buckets))


def char_ngram_counts(texts: list[str], ngrams: tuple[int, int], buckets: int, *,
                      lowercase: bool = True) -> scipy.sparse.csr_matrix:
    """Counts of every character n-gram (`ngrams` = (low, high) lengths) of each text, hashed into `buckets`."""
    cleaned = [_WHITESPACE.sub(" ", text.lower() if lowercase else text).replace(_SEPARATOR, " ") for text in texts]
    codes = _Codes(cleaned)
    rows, columns = [], []
    for n in range(ngrams[0], ngrams[1] + 1):
        starts = np.flatnonzero(codes.room >= n)
        rows.append(codes.text_of[starts])
        columns.append(_buckets(codes.span_hashes(starts, np.full(len(starts), n)), n, buckets))
    return _counts(rows, columns, len(texts), buckets)


#: Whether each ASCII code point is a word character (`\\w`): most text is looked up here, not sorted.
_ASCII_WORD = np.array([chr(c).isalnum() or c == 95 for c in range(128)])


def _is_word_character(codes: np.ndarray) -> np.ndarray:
    """`\\w` per code point: a table for ASCII, str.isalnum over the distinct others."""
    ascii_ = codes < 128
    is_word = np.zeros(len(codes), dtype=bool)
    is_word[ascii_] = _ASCII_WORD[codes[ascii_].astype(np.int64)]
    others = ~ascii_
    if others.any():
        distinct, index = np.unique(codes[others], return_inverse=True)
        table = np.fromiter((chr(int(c)).isalnum() for c in distinct), dtype=bool, count=len(distinct))
        is_word[others] = table[index]
    return is_word


def word_hashes(texts: list[str], *, lowercase: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Every `\\w+` word of the texts in order, as a uint64 hash, and the index of the text it is in."""
    codes = _Codes([text.lower() if lowercase else text for text in texts])
    word = np.concatenate([[False], _is_word_character(codes.codes), [False]])
    edges = np.diff(word.astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return codes.span_hashes(starts, ends - starts), codes.text_of[starts]


def word_ngram_counts(texts: list[str], ngrams: tuple[int, int], buckets: int, *,
                      lowercase: bool = True) -> scipy.sparse.csr_matrix:
    """Counts of every run of `ngrams` = (low, high) consecutive words of each text, hashed into `buckets`."""
    words, text_of = word_hashes(texts, lowercase=lowercase)
    rows, columns = [], []
    combined = words.copy()
    for n in range(1, ngrams[1] + 1):
        if n > 1:   # extend every run by its next word, within one text
            with np.errstate(over="ignore"):
                combined = combined[:-1] * _WORD_MIX + words[n - 1:]
        last_text = text_of[n - 1:]
        same_text = text_of[:len(last_text)] == last_text
        if n >= ngrams[0]:
            rows.append(text_of[:len(last_text)][same_text])
            columns.append(_buckets(combined[same_text], 1000 + n, buckets))
    return _counts(rows, columns, len(texts), buckets)
