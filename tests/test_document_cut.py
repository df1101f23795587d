"""The default's cut for whole documents: a document's score is the mean of its contexts' default scores, which
varies less than one context's, so the build calibrates a cut on whole held-out target documents and
`learnerhub filter --threshold documents` (and datatrove's `threshold="documents"`) cut there."""

import json

import numpy as np
import pytest
import torch

from cards.format.errors import UsageError
from learners.corpora.contexts import ContextStream, CorpusSplit
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs, word_order_documents
from learners.igf.document_cut import DOCUMENT_COUNT
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.learner import DOCUMENT_QUANTILES
from cards.format.metadata_sections import CorpusInfo, ProbeInfo
from learners.pipeline.filter_shards import filter_shards
from learners.pipeline.score_shards import score_shards
from test_target_affinity import NEAR, TARGET, UNRELATED
from test_target_threshold import REF, contexts_of

CONTEXTS_PER_DOCUMENT = 3


def documents_of(tokenizer, words: list[str], count: int, seed: int) -> list[torch.Tensor]:
    """`count` documents of CONTEXTS_PER_DOCUMENT contexts (16 tokens each) drawn from `words`."""
    return list(contexts_of(tokenizer, words, count * CONTEXTS_PER_DOCUMENT, seed).view(count, -1))


@pytest.fixture()
def target_documents(tokenizer):
    return documents_of(tokenizer, TARGET, 60, 8)


@pytest.fixture()
def document_learner(tiny_gpt2, tokenizer, target_documents):
    """A learner built with its pool and a target of multi-context documents (60: 12 held out for calibration)."""
    noise = torch.Generator().manual_seed(3)
    contexts = torch.cat([contexts_of(tokenizer, words, 60, seed) for seed, words in
                          enumerate((TARGET, NEAR, UNRELATED), start=1)])
    gains = torch.cat([1 + 0.3 * torch.randn(120, generator=noise), -1 + 0.3 * torch.randn(60, generator=noise)])
    config = BuildConfig(context_length=16, calibration_contexts=200, head=HeadTrainingConfig(head="bag_of_tokens"))
    target_calibration = contexts_of(tokenizer, TARGET, 200, 7)
    learner = learner_from_pairs(tiny_gpt2, tokenizer, REF, contexts, gains, config=config,
                                 probe=ProbeInfo(name="fast"), target=CorpusInfo(name="target"),
                                 pool=CorpusInfo(name="pool"), calibration=contexts,
                                 target_calibration=target_calibration)
    split = CorpusSplit(objective=contexts_of(tokenizer, TARGET, 4, 9), test=contexts_of(tokenizer, TARGET, 4, 10),
                        train=ContextStream(list(contexts), 16), target_train=ContextStream(target_documents, 16))
    attach_target_affinity(learner, tokenizer, split, contexts, target_calibration, config)
    return learner


def texts_of(tokenizer, documents: list[torch.Tensor]) -> list[str]:
    return tokenizer.batch_decode([d.tolist() for d in documents], skip_special_tokens=True,
                                  clean_up_tokenization_spaces=False)


def test_the_build_calibrates_a_cut_on_held_out_whole_target_documents(document_learner, tokenizer,
                                                                       target_documents):
    metrics = document_learner.metadata.metrics
    _, held_out = word_order_documents(target_documents, seed=0 + 5)   # BuildConfig's seed 0, as the build draws
    means = document_learner.score_documents(texts_of(tokenizer, held_out), score="default").mean
    assert metrics[DOCUMENT_COUNT] == len(held_out) == 12 and len(metrics[DOCUMENT_QUANTILES]) == 101
    cut = document_learner.default_document_cut()
    assert cut == pytest.approx(float(np.quantile(means, 0.1)), abs=1e-4)
    assert cut != pytest.approx(document_learner.default_cut(), abs=1e-3)   # documents are not contexts


def test_filter_at_the_documents_threshold_reads_the_cut_scoring_recorded(document_learner, tokenizer,
                                                                          tiny_model_folder, tmp_path):
    document_learner.metadata.base_model.name_or_path = str(tiny_model_folder)
    folder = document_learner.save(tmp_path / "learner")
    documents = [*documents_of(tokenizer, TARGET, 60, 61), *documents_of(tokenizer, NEAR, 10, 62),
                 *documents_of(tokenizer, UNRELATED, 10, 63)]
    texts = texts_of(tokenizer, documents)
    shard = tmp_path / "pool.jsonl"
    shard.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)))

    score_shards(folder, [shard], tmp_path / "scores", workers=1, progress=False)
    manifest = json.loads((tmp_path / "scores" / "pool.jsonl.scores.json").read_text())
    assert manifest["document_threshold"] == pytest.approx(document_learner.default_document_cut())
    cut, (result,) = filter_shards([shard], tmp_path / "scores", tmp_path / "kept", threshold="documents")
    assert cut == pytest.approx(document_learner.default_document_cut())
    means = document_learner.score_documents(texts, score="default").mean
    kept_ids = [json.loads(line)["id"] for line in (tmp_path / "kept" / "pool.jsonl").read_text().splitlines()]
    assert kept_ids == [f"d{i}" for i in range(len(texts)) if means[i] >= cut]
    # Only target documents, most of them: a 10% quantile of 12 calibration documents (between their lowest two)
    # leaves about 16% of the target below it on average, and the draw of 12 moves that by +-10%.
    assert set(kept_ids) <= {f"d{i}" for i in range(60)} and len(kept_ids) >= 42

    from learners.pipeline.datatrove_steps import LearnerFilter   # the same cut as a datatrove step

    assert LearnerFilter(str(folder), threshold="documents").cut() == pytest.approx(cut)


def test_a_learner_without_a_document_cut_says_so_in_one_line(document_learner, tokenizer, tiny_model_folder,
                                                              tmp_path):
    """Learners built before the document calibration (or without --target) keep working with `default`."""
    del document_learner.metadata.metrics[DOCUMENT_QUANTILES]
    assert document_learner.default_document_cut() is None
    document_learner.metadata.base_model.name_or_path = str(tiny_model_folder)
    folder = document_learner.save(tmp_path / "learner")
    shard = tmp_path / "pool.jsonl"
    shard.write_text(json.dumps({"id": "d0", "text": texts_of(tokenizer, documents_of(tokenizer, TARGET, 1, 5))[0]})
                     + "\n")
    score_shards(folder, [shard], tmp_path / "scores", workers=1, progress=False)
    with pytest.raises(UsageError, match="carry no document threshold"):
        filter_shards([shard], tmp_path / "scores", tmp_path / "kept", threshold="documents")
    cut, _ = filter_shards([shard], tmp_path / "scores", tmp_path / "kept", threshold="default")
    assert cut == pytest.approx(document_learner.default_cut())
