"""Shared fixtures: tiny random models, a tokenizer trained here and small corpora (helpers: model_helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from model_helpers import make_tiny_gpt2, make_tiny_llama, metadata_for, synthetic_documents, train_tokenizer


@pytest.fixture(scope="session")
def documents() -> list[str]:
    return synthetic_documents()


@pytest.fixture(scope="session")
def tokenizer(documents):
    return train_tokenizer(documents)


@pytest.fixture()
def tiny_gpt2(tokenizer):
    return make_tiny_gpt2(tokenizer)


@pytest.fixture()
def tiny_llama(tokenizer):
    return make_tiny_llama(tokenizer)


@pytest.fixture()
def tiny_model_folder(tmp_path, tokenizer):
    """A saved tiny GPT-2 + tokenizer folder, usable as `--base-model PATH`."""
    folder = tmp_path / "tiny-gpt2"
    make_tiny_gpt2(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture()
def jsonl_corpus(tmp_path, documents) -> Path:
    path = tmp_path / "tiny-corpus.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": text}) + "\n" for i, text in enumerate(documents)))
    return path


@pytest.fixture()
def random_learner(tiny_gpt2, tokenizer):
    """An untrained (randomly initialised) IGF learner attached to `tiny_gpt2`."""
    from learners.igf.conv_head import InformationGainHead
    from learners.igf.learner import InformationGainLearner

    torch.manual_seed(3)
    learner = InformationGainLearner(InformationGainHead(32), metadata_for(tiny_gpt2, tokenizer))
    return learner.attach(tiny_gpt2, tokenizer)
