"""Labelled sequence-classification tasks cut from real text, for benchmarks that need accuracy.

- `testament_task`: is a King James passage from the Old or the New Testament? Both halves share one
  translation's style and vocabulary, so the label rests on content (names, places, themes); it is
  hard enough that a small encoder keeps learning over an epoch, like the paper's GLUE tasks.
- `corpus_source_task`: which of two corpora a passage comes from (easy when their styles differ).

Passages are runs of `words` consecutive words; documents are split between train and test first,
so no test passage shares a document with a training one. Classes are balanced by subsampling.

Example:
    >>> task = testament_task(load_corpus("kjv.jsonl.gz"), tokenizer, train_size=2048, test_size=400)
    >>> finetune(classifier, task.train, task.test, task=SequenceClassificationTask())
"""

from __future__ import annotations

import gzip
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import CorpusError
from .corpus import Corpus
from .examples import Examples

#: The first New Testament book in kjv.jsonl.gz's chapter ids (Ge1 ... Mal4, Mat1 ... Rev22).
NEW_TESTAMENT_FIRST_BOOK = "Mat"


@dataclass
class ClassificationSplit:
    """Padded, labelled train and test examples, and what the labels mean."""

    train: Examples
    test: Examples
    label_names: tuple[str, str]
    description: str


def passages(text: str, words: int) -> list[str]:
    """Consecutive runs of `words` words (the last partial run is dropped)."""
    tokens = text.split()
    return [" ".join(tokens[i:i + words]) for i in range(0, len(tokens) - words + 1, words)]


def labelled_task(groups: tuple[list[str], list[str]], tokenizer, *, label_names: tuple[str, str], description: str,
                  train_size: int, test_size: int, words: int = 48, max_length: int = 64,
                  seed: int = 0) -> ClassificationSplit:
    """Balanced passages from two groups of documents (label 0 and 1), split by document."""
    rng = random.Random(seed)
    train_texts, test_texts = [], []
    for label, documents in enumerate(groups):
        documents = list(documents)
        rng.shuffle(documents)
        cut = max(1, len(documents) // 5)
        test = [(p, label) for d in documents[:cut] for p in passages(d, words)]
        train = [(p, label) for d in documents[cut:] for p in passages(d, words)]
        if len(train) < train_size // 2 or len(test) < test_size // 2:
            raise CorpusError(f"{label_names[label]!r} has {len(train)} train and {len(test)} test passages of "
                              f"{words} words; {train_size // 2} and {test_size // 2} are needed.")
        train_texts += rng.sample(train, train_size // 2)
        test_texts += rng.sample(test, test_size // 2)
    rng.shuffle(train_texts)
    return ClassificationSplit(encode(train_texts, tokenizer, max_length), encode(test_texts, tokenizer, max_length),
                               label_names, description)


def encode(labelled: list[tuple[str, int]], tokenizer, max_length: int) -> Examples:
    batch = tokenizer([text for text, _ in labelled], padding="max_length", truncation=True, max_length=max_length,
                      return_tensors="pt")
    return Examples(batch["input_ids"], torch.tensor([label for _, label in labelled]), batch["attention_mask"])


def testament_task(kjv_path: str | Path, tokenizer, *, train_size: int, test_size: int, seed: int = 0,
                   **options) -> ClassificationSplit:
    """Old (0) vs New (1) Testament passages from kjv.jsonl.gz, whose chapter ids run Ge1 ... Rev22."""
    with gzip.open(kjv_path, "rt", encoding="utf-8") if str(kjv_path).endswith(".gz") else open(kjv_path) as lines:
        chapters = [json.loads(line) for line in lines if line.strip()]
    books = [re.match(r"\d*[A-Za-z]*", str(c.get("id", ""))).group(0) for c in chapters]
    if NEW_TESTAMENT_FIRST_BOOK not in books:
        raise CorpusError(f"{kjv_path} has no chapter id starting with {NEW_TESTAMENT_FIRST_BOOK!r}; the testament "
                          "task needs kjv.jsonl.gz (ids Ge1 ... Rev22).")
    first_new = books.index(NEW_TESTAMENT_FIRST_BOOK)
    texts = [c["text"] for c in chapters]
    return labelled_task((texts[:first_new], texts[first_new:]), tokenizer,
                         label_names=("old testament", "new testament"),
                         description="kjv: Old vs New Testament passage", train_size=train_size,
                         test_size=test_size, seed=seed, **options)


def corpus_source_task(first: Corpus, second: Corpus, tokenizer, *, train_size: int, test_size: int, seed: int = 0,
                       **options) -> ClassificationSplit:
    """Which corpus a passage comes from: `first` (0) or `second` (1)."""
    return labelled_task((first.documents, second.documents), tokenizer, label_names=(first.name, second.name),
                         description=f"{first.name} vs {second.name} passage", train_size=train_size,
                         test_size=test_size, seed=seed, **options)
