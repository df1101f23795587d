"""The numpy n-gram hashing of text learners: the same n-grams scikit-learn counts, stable buckets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from learners.text_igf.features import WORD_PATTERN, TextFeatures
from learners.text_hashing import char_ngram_counts, word_ngram_counts

TEXTS = ["In the beginning God created the heaven and the earth.", "", "a", "  x \t\n y  ",
         "def parse(text: str) -> Über_straße 12", "Ünïcödé wörds, 中文字符 and __dunder__ names", "x" * 300]


@pytest.mark.parametrize(("analyzer", "ngrams", "count"), [("word", (1, 2), word_ngram_counts),
                                                           ("word", (2, 3), word_ngram_counts),
                                                           ("char", (3, 5), char_ngram_counts),
                                                           ("char", (1, 2), char_ngram_counts)])
def test_counts_the_ngrams_scikit_learn_counts(analyzer, ngrams, count):
    """Per text: as many n-grams in all, and (with buckets to spare) as many distinct ones."""
    reference = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=2 ** 20, token_pattern=WORD_PATTERN,
                                  alternate_sign=False, norm=None).transform(TEXTS)
    ours = count(TEXTS, ngrams, 2 ** 20)
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.asarray(ours.sum(1)).ravel(), np.asarray(reference.sum(1)).ravel())
    np.testing.assert_array_equal(ours.getnnz(axis=1), reference.getnnz(axis=1))


def test_buckets_are_fixed_and_independent_of_the_batch():
    """A text's buckets do not depend on what else is in the batch, and do not change between releases."""
    alone = char_ngram_counts(["the earth"], (3, 5), 2 ** 18)
    batched = char_ngram_counts(["something first", "the earth", "and after"], (3, 5), 2 ** 18)
    assert (alone != batched[1]).nnz == 0
    words = word_ngram_counts(["the earth"], (1, 2), 2 ** 18)
    assert sorted(words.indices.tolist()) == sorted(word_ngram_counts(["x", "the earth"], (1, 2), 2 ** 18)[1]
                                                    .indices.tolist())
    # Pinned: a learner published today must score the same text the same way after any upgrade.
    assert sorted(words.indices.tolist()) == [694, 13390, 213402]


def test_lowercase_is_honoured():
    assert (word_ngram_counts(["The"], (1, 1), 1024) != word_ngram_counts(["the"], (1, 1), 1024)).nnz == 0
    assert (word_ngram_counts(["The"], (1, 1), 1024, lowercase=False)
            != word_ngram_counts(["the"], (1, 1), 1024, lowercase=False)).nnz > 0


def test_features_from_before_the_hashing_field_keep_murmurhash3():
    """A learner built before `hashing` was recorded loads with the hashing it was built with."""
    old = {"buckets": 64, "word_ngrams": [1, 2], "char_ngrams": [3, 5], "char_analyzer": "char", "lowercase": True}
    assert TextFeatures.from_config(old).hashing == "murmurhash3"
    assert TextFeatures.from_config(TextFeatures(buckets=64).to_config()).hashing == "polynomial"
    with pytest.raises(ValueError, match="hashing"):
        TextFeatures.from_config({**old, "hashing": "md5"})
    with pytest.raises(ValueError, match="hashing"):
        TextFeatures.from_config({**old, "char_analyzer": "char_wb", "hashing": "polynomial"})


def test_features_are_the_same_whichever_texts_share_a_chunk(monkeypatch):
    """Long batches are hashed in chunks (speed); a text's row must not depend on its neighbours."""
    from learners.text_igf import features as features_module
    from learners.text_igf.features import TextFeatures

    texts = [f"In the beginning {i} God created " * (1 + i % 7) + "def f(x): return x" * (i % 3) for i in range(40)]
    features = TextFeatures()
    whole = features.transform(texts)
    monkeypatch.setattr(features_module, "CHUNK_CHARACTERS", 300)
    chunked = features.transform(texts)
    assert chunked.shape == whole.shape and abs(chunked - whole).max() < 1e-12
