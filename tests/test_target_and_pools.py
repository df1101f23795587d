"""Target vs pool: held-out target text never reaches the pool; pools and junk are what was asked."""

import json

import pytest
import torch
from model_helpers import WORDS, synthetic_documents

from learners.corpora.corpus import load_corpus
from learners.corpora.pools import JUNK_KINDS, junk_contexts, mixed_pool
from learners.errors import CorpusError
from learners.igf.build import BuildConfig, document_key, split_corpus, split_target_and_pool

OFF_TARGET = tuple(w[::-1] for w in WORDS)


def write_corpus(path, texts):
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    return path


@pytest.fixture()
def target_and_pool(tmp_path, documents):
    """A target, and a pool holding all of the target's documents plus as many off-target ones."""
    target = write_corpus(tmp_path / "target.jsonl", documents)
    pool = write_corpus(tmp_path / "pool.jsonl", documents + synthetic_documents(40, seed=9, vocabulary=OFF_TARGET))
    return load_corpus(target), load_corpus(pool)


def windows(document: torch.Tensor, length: int) -> set[bytes]:
    return {document_key(document[i:i + length]) for i in range(len(document) - length + 1)}


def test_target_supplies_objective_and_test_and_none_of_it_reaches_the_pool(target_and_pool, tokenizer):
    target, pool = target_and_pool
    config = BuildConfig(objective_size=5, test_size=6, context_length=16, seed=3)
    _, target_tokens, split = split_target_and_pool(pool, target, tokenizer, config)
    _, target_alone = split_corpus(target, tokenizer, config)
    assert torch.equal(split.objective, target_alone.objective) and torch.equal(split.test, target_alone.test)
    held_out = {document_key(d) for d in target_tokens.documents} - {document_key(d)
                                                                     for d in target_alone.train.documents}
    assert len(held_out) == 11
    pool_windows = set().union(*(windows(d, 16) for d in split.train.documents))
    assert not {document_key(c) for c in torch.cat([split.objective, split.test])} & pool_windows
    assert len(split.train.documents) == 80 - 11   # the pool keeps every other document


def test_without_a_target_the_pool_is_split_as_before(target_and_pool, tokenizer):
    _, pool = target_and_pool
    config = BuildConfig(objective_size=5, test_size=6, context_length=16)
    _, _, split = split_target_and_pool(pool, None, tokenizer, config)
    assert torch.equal(split.objective, split_corpus(pool, tokenizer, config)[1].objective)


def test_a_pool_made_only_of_held_out_target_text_is_refused(tmp_path, documents, tokenizer):
    target = load_corpus(write_corpus(tmp_path / "t.jsonl", documents))
    config = BuildConfig(objective_size=20, test_size=19, context_length=16, seed=0)
    _, _, split = split_target_and_pool(target, target, tokenizer, config)   # 1 document left: fine
    assert len(split.train.documents) == 1
    _, held = split_corpus(target, tokenizer, config)
    train_keys = {document_key(x) for x in held.train.documents}
    only_held = load_corpus(write_corpus(tmp_path / "p.jsonl", [
        d for d in documents
        if document_key(torch.tensor(tokenizer(d, add_special_tokens=False)["input_ids"])) not in train_keys]))
    with pytest.raises(CorpusError, match="held out"):
        split_target_and_pool(only_held, target, tokenizer, config)


def test_mixed_pool_has_the_fraction_asked_and_is_deterministic():
    target, other = torch.arange(300).view(100, 3), -torch.arange(900).view(300, 3) - 1
    pool = mixed_pool(target, other, other_fraction=0.6, seed=4)
    assert len(pool) == 250 and pool.target_fraction == pytest.approx(0.4)
    assert torch.equal(pool.target_only().sort(0).values, target)
    again = mixed_pool(target, other, other_fraction=0.6, seed=4)
    assert torch.equal(pool.contexts, again.contexts) and torch.equal(pool.is_target, again.is_target)
    assert not torch.equal(pool.contexts, mixed_pool(target, other, other_fraction=0.6, seed=5).contexts)
    with pytest.raises(ValueError, match="needs"):
        mixed_pool(target, other[:10], other_fraction=0.6, seed=4)


def test_junk_is_deterministic_and_a_third_of_each_kind(tokenizer, documents):
    source = torch.stack([torch.tensor(tokenizer(d, add_special_tokens=False)["input_ids"][:16]) for d in documents])
    junk = junk_contexts(source, tokenizer, 30, seed=1)
    assert junk.shape == (30, 16)
    assert torch.equal(junk, junk_contexts(source, tokenizer, 30, seed=1))
    source_rows = {tuple(sorted(r.tolist())) for r in source}
    shuffled = [r for r in junk if tuple(sorted(r.tolist())) in source_rows]
    assert len(shuffled) == 30 // len(JUNK_KINDS)                       # token-shuffled target passages
    assert not any(document_key(r) in {document_key(s) for s in source} for r in shuffled)


def test_the_bundled_samples_fit_every_default(tokenizer):
    """`learnerhub build` / `finetune` defaults (objective 100 + test 100 documents) work on the bundled target,
    and the bundled pool (KJV sample + Python docs sample) is at least half off-target by contexts."""
    from learnerhub.cli.arguments import SAMPLE_CORPUS, SAMPLE_DIR
    from learners.corpora.corpus import join_corpora

    target = load_corpus(SAMPLE_CORPUS)
    pool = join_corpora([target, load_corpus(SAMPLE_DIR / "pydocs-sample.jsonl.gz")])
    config = BuildConfig()
    _, split = split_corpus(target, tokenizer, config)
    assert len(split.objective) == len(split.test) == 100
    _, _, mixed = split_target_and_pool(pool, target, tokenizer, config)
    target_keys = {document_key(d) for d in split.train.documents}
    windows_of = [len(d) - config.context_length + 1 for d in mixed.train.documents]
    off_target = sum(w for d, w in zip(mixed.train.documents, windows_of) if document_key(d) not in target_keys)
    assert off_target / sum(windows_of) >= 0.5
