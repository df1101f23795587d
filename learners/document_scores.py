"""One score per document from a learner that scores fixed-length contexts.

Why: a data pipeline keeps or drops whole documents, while the token-level kinds (IGF, streaming)
score contexts of the length they were built on. A document is tokenized (the fast tokenizer's batch
call: tokenizing, not scoring, is what bounds throughput), cut into contexts, each context scored, and
the scores aggregated per document:

- a document of at least one context is cut into consecutive contexts; when its length is not a
  multiple of the context length, its last context ends at its last token (overlapping the one before),
  so every token is scored and every context is as long as those the learner was trained on;
- a shorter document is scored as one context of its whole tokens (no padding: padding would be
  scored as text by a head that reads embeddings);
- a document of no tokens gets NaN (it has nothing to score; filters drop it).

`mean` over contexts is the document's score (`Learner.score_texts`); `max` is kept beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

AGGREGATES = ("mean", "max")
#: Contexts scored in one call of the kind's scorer.
CONTEXTS_PER_CALL = 4096


@dataclass(frozen=True)
class DocumentScores:
    """Per-document aggregates of context scores: (n,) arrays, NaN where a document had nothing to score."""

    mean: np.ndarray
    max: np.ndarray
    contexts: np.ndarray          # contexts scored per document (0 for an empty document)
    tokens: np.ndarray | None     # tokens per document; None for a kind that reads raw text

    def aggregate(self, name: str) -> np.ndarray:
        """The scores of aggregate `name` (`mean` or `max`)."""
        if name not in AGGREGATES:
            raise ValueError(f"Unknown aggregate {name!r}; use one of {AGGREGATES}.")
        return self.mean if name == "mean" else self.max

    def __len__(self) -> int:
        return len(self.mean)

    @classmethod
    def per_document(cls, scores: Sequence[float] | np.ndarray, tokens: Sequence[int] | None = None) -> DocumentScores:
        """For a kind that scores whole documents (one "context" each): mean and max are the score."""
        values = np.asarray(scores, dtype=np.float64)
        return cls(mean=values, max=values.copy(), contexts=np.ones(len(values), dtype=np.int64),
                   tokens=None if tokens is None else np.asarray(tokens, dtype=np.int64))


def context_starts(length: int, context_length: int) -> list[int]:
    """Where each context of a `length`-token document starts (see the module's rule)."""
    if length <= context_length:
        return [0] if length else []
    starts = list(range(0, length - context_length + 1, context_length))
    if starts[-1] + context_length < length:
        starts.append(length - context_length)
    return starts


def score_token_documents(texts: Sequence[str], tokenizer, score_contexts: Callable[[torch.Tensor], torch.Tensor],
                          context_length: int) -> DocumentScores:
    """Tokenize `texts` in one batch call, score their contexts with `score_contexts`, aggregate per document."""
    texts = list(texts)
    count = len(texts)
    encoded = tokenizer(texts, add_special_tokens=False, return_attention_mask=False)["input_ids"] if texts else []
    tokens = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=count)
    full_rows, full_owner = [], []
    short: dict[int, tuple[list[list[int]], list[int]]] = {}
    for index, ids in enumerate(encoded):
        if len(ids) >= context_length:
            for start in context_starts(len(ids), context_length):
                full_rows.append(ids[start:start + context_length])
                full_owner.append(index)
        elif ids:
            rows, owners = short.setdefault(len(ids), ([], []))
            rows.append(ids)
            owners.append(index)
    scores, owners = [], []
    if full_rows:
        scores.append(_score_rows(full_rows, score_contexts))
        owners.append(np.asarray(full_owner, dtype=np.int64))
    for rows, owner in short.values():   # one call per distinct short length: rows of equal length, unpadded
        scores.append(_score_rows(rows, score_contexts))
        owners.append(np.asarray(owner, dtype=np.int64))
    return _aggregate(np.concatenate(scores) if scores else np.zeros(0),
                      np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64), count, tokens)


def _score_rows(rows: list[list[int]], score_contexts: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
    ids = torch.tensor(rows, dtype=torch.long)
    parts = [score_contexts(ids[start:start + CONTEXTS_PER_CALL]) for start in range(0, len(ids), CONTEXTS_PER_CALL)]
    return torch.cat(parts).detach().double().cpu().numpy()


def _aggregate(scores: np.ndarray, owner: np.ndarray, count: int, tokens: np.ndarray) -> DocumentScores:
    contexts = np.bincount(owner, minlength=count).astype(np.int64)
    sums = np.bincount(owner, weights=scores, minlength=count)
    maxes = np.full(count, -np.inf)
    np.maximum.at(maxes, owner, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(contexts > 0, sums / np.maximum(contexts, 1), np.nan)
    maxes[contexts == 0] = np.nan
    return DocumentScores(mean=mean, max=maxes, contexts=contexts, tokens=tokens)
