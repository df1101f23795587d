"""Hashed uni- and bigram features of token ids: what the cheap learners see of a context.

Shared by the streaming filter's online logistic regression and the IGF bag-of-tokens head, so both
read a context the same way: each n-gram present hashes to one of `buckets` weights and counts
1/sqrt(number of n-grams), padding left out.
"""

from __future__ import annotations

import torch

_MULTIPLIER = 2654435761  # Knuth's multiplicative hash
_BIGRAM_SALT = 0x5BD1E995


def hashed_ngrams(input_ids: torch.Tensor, *, vocab_size: int, buckets: int,
                  pad_token_id: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(bucket index, value) of each uni- and bigram of each row: two (batch, 2 * time - 1) tensors."""
    ids = input_ids.cpu().long()
    valid = torch.ones_like(ids, dtype=torch.bool) if pad_token_id is None else ids != pad_token_id
    bigrams = ids[:, :-1] * (vocab_size + 1) + ids[:, 1:] + _BIGRAM_SALT
    grams = torch.cat([ids, bigrams], dim=1)
    mask = torch.cat([valid, valid[:, :-1] & valid[:, 1:]], dim=1).float()
    index = torch.remainder(grams * _MULTIPLIER, buckets)
    return index, mask / mask.sum(1, keepdim=True).clamp(min=1.0).sqrt()


def sparse_feature_matrix(index: torch.Tensor, values: torch.Tensor, buckets: int) -> torch.Tensor:
    """The (batch, buckets) sparse matrix of hashed features (repeated n-grams add up)."""
    rows = torch.arange(len(index)).repeat_interleave(index.shape[1])
    return torch.sparse_coo_tensor(torch.stack([rows, index.flatten()]), values.flatten(),
                                   (len(index), buckets), check_invariants=False).coalesce()
