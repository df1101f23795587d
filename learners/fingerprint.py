"""Fingerprints of a base model's tokenizer and input embeddings.

A learner reads the base model's input embeddings, so it is only meaningful next to the exact
vocabulary and embedding matrix it was trained on. These fingerprints let loading refuse any other.
"""

from __future__ import annotations

import hashlib
import json

import torch

SKETCH_SIZE = 16
SKETCH_SEED = 20240611


def tokenizer_fingerprint(tokenizer) -> str:
    """sha256 of the vocabulary (token -> id) and the special tokens, independent of dict order."""
    vocabulary = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    payload = json.dumps({"vocab": vocabulary, "special": sorted(map(str, tokenizer.all_special_tokens))},
                         ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def embedding_fingerprint(weight: torch.Tensor) -> dict:
    """Exact hash, shape, and a small numeric sketch of an embedding matrix.

    The exact hash tells identical matrices apart; the sketch (the matrix times a fixed random
    vector, at fixed rows) lets the same weights in another precision (fp32 vs bf16) still match.
    """
    matrix = weight.detach().to("cpu", torch.float32).contiguous()
    return {
        "sha256": hashlib.sha256(matrix.numpy().tobytes()).hexdigest(),
        "shape": list(matrix.shape),
        "sketch": [round(v, 6) for v in _sketch(matrix).tolist()],
    }


def _sketch(matrix: torch.Tensor) -> torch.Tensor:
    generator = torch.Generator().manual_seed(SKETCH_SEED)
    rows = torch.randint(0, matrix.shape[0], (SKETCH_SIZE,), generator=generator)
    direction = torch.randn(matrix.shape[1], generator=generator) / matrix.shape[1] ** 0.5
    return matrix[rows] @ direction


def embeddings_match(expected: dict, actual: dict, *, tolerance: float = 2e-2) -> bool:
    """Same shape and either the same hash or a sketch equal within `tolerance` (precision changes)."""
    if list(expected["shape"]) != list(actual["shape"]):
        return False
    if expected["sha256"] == actual["sha256"]:
        return True
    a, b = torch.tensor(expected["sketch"]), torch.tensor(actual["sketch"])
    return bool(torch.allclose(a, b, atol=tolerance, rtol=tolerance))
