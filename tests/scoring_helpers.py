"""A tiny IGF learner that tells two vocabularies apart, saved next to its tiny base model: what the
score / filter / datatrove tests run on (fitted in closed form in well under a second)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import torch
from model_helpers import WORDS, make_tiny_gpt2, metadata_for, synthetic_documents

#: The learner is fitted to prefer contexts in the first vocabulary (scripture words) over the second (code).
SCRIPTURE = tuple(WORDS[:WORDS.index("def")])
CODE = tuple(WORDS[WORDS.index("def"):])
CONTEXT_LENGTH = 16


def build_vocabulary_learner(tokenizer, base_model_folder: Path, out: Path, *, seed: int = 0):
    """An IGF learner (bag-of-tokens head) scoring scripture contexts high and code contexts low; saved to `out`."""
    from learners.igf.bag_of_tokens_head import BagOfTokensHead
    from learners.igf.learner import InformationGainLearner

    model = make_tiny_gpt2(tokenizer)
    texts = synthetic_documents(30, 40, seed=seed, vocabulary=SCRIPTURE) + synthetic_documents(
        30, 40, seed=seed + 1, vocabulary=CODE)
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"][:CONTEXT_LENGTH] for text in texts]
    targets = torch.tensor([1.0] * 30 + [-1.0] * 30)
    head = BagOfTokensHead(vocab_size=len(tokenizer), buckets=4096).fit(torch.tensor(ids), targets)
    metadata = metadata_for(model, tokenizer, hyperparameters={"context_length": CONTEXT_LENGTH})
    metadata.base_model.name_or_path = str(base_model_folder)
    learner = InformationGainLearner(head, metadata).attach(model, tokenizer)
    learner.save(out)
    return learner


def mixed_documents(count: int, seed: int) -> list[str]:
    """Alternating scripture and code documents of varied length (some shorter than one context)."""
    scripture = synthetic_documents(count, 30, seed=seed, vocabulary=SCRIPTURE)
    code = synthetic_documents(count, 30, seed=seed + 100, vocabulary=CODE)
    documents = []
    for i in range(count):
        cut = 3 + (i * 7) % 28
        documents.append(" ".join((scripture if i % 2 == 0 else code)[i].split()[:cut]))
    return documents


def write_jsonl(path: Path, documents: list[str], *, prefix: str = "doc") -> Path:
    lines = "".join(json.dumps({"id": f"{prefix}-{i}", "text": text, "meta": i}) + "\n"
                    for i, text in enumerate(documents))
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(lines.encode()))
    else:
        path.write_text(lines)
    return path
