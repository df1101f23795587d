"""The word-order model: the target's own words in no order (R3's shuffled passages) fail it, the target's text
in its order passes; it survives save and load, and the default score drops word salad the affinity keeps."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from learners.corpora.contexts import ContextStream, CorpusSplit
from learners.corpora.corpus import load_corpus
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs, word_order_documents
from learners.igf.filter import InformationGainFilter
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.learner import InformationGainLearner
from learners.igf.thresholds import DefaultLevel
from learners.word_order import ORDER_GATE_QUANTILE, ORDER_PREFIX, WordOrderModel
from cards.format.metadata_sections import CorpusInfo, ProbeInfo
from cards.model_card.folder_card import write_folder_card
from test_target_threshold import REF, contexts_of

SAMPLES = Path(__file__).resolve().parents[1] / "learners" / "data"   # tests may run from another folder
KJV_SAMPLE = SAMPLES / "kjv-sample.jsonl.gz"
PYDOCS_SAMPLE = SAMPLES / "pydocs-sample.jsonl.gz"


def shuffled_words(text: str, seed: int) -> str:
    words = text.split()
    random.Random(seed).shuffle(words)
    return " ".join(words)


def windows(documents, words: int = 24, every: int = 200) -> list[str]:
    """Passages of `words` words from each document, as fine-tuning contexts are."""
    passages = []
    for document in documents:
        split = document.split()
        passages += [" ".join(split[i:i + words]) for i in range(0, max(len(split) - words, 1), every)]
    return passages


@pytest.fixture(scope="module")
def kjv_model_and_held_out():
    documents = load_corpus(KJV_SAMPLE).documents
    return WordOrderModel.fit(documents[:600]), windows(documents[600:])


def test_target_words_out_of_order_fall_below_the_gate(kjv_model_and_held_out):
    model, held_out = kjv_model_and_held_out
    in_order = model.log_ratio(held_out)
    salad = model.log_ratio([shuffled_words(text, seed) for seed, text in enumerate(held_out)])
    gate = np.quantile(in_order, ORDER_GATE_QUANTILE)
    assert np.median(in_order) > 0.2 > 0 > np.median(salad)
    assert (salad >= gate).mean() < 0.1     # the same words, in no order: nearly all below the gate (a small sample)
    other = model.log_ratio(windows(load_corpus(PYDOCS_SAMPLE).documents))
    assert np.median(other) < np.quantile(in_order, 0.1)   # another domain's text in its own order: not the target's


def test_short_texts_are_neutral_and_empty_input_is_empty(kjv_model_and_held_out):
    model, _ = kjv_model_and_held_out
    assert model.log_ratio([]).shape == (0,)
    assert model.log_ratio(["", "lord", "!!! ..."]).tolist() == [0.0, 0.0, 0.0]
    assert model.log_ratio(["the LORD said unto Moses"])[0] == model.log_ratio(["the lord said unto moses"])[0]


def test_the_model_round_trips_through_tensors_and_rejects_partial_ones(kjv_model_and_held_out):
    model, held_out = kjv_model_and_held_out
    tensors = model.tensors()
    assert all(name.startswith(ORDER_PREFIX) for name in tensors)
    assert np.array_equal(WordOrderModel.from_tensors(tensors).log_ratio(held_out), model.log_ratio(held_out))
    assert WordOrderModel.from_tensors({k: v for k, v in tensors.items() if not k.endswith("followers")}) is None
    tensors[f"{ORDER_PREFIX}bigram_counts"] = tensors[f"{ORDER_PREFIX}bigram_counts"][:-1]
    assert WordOrderModel.from_tensors(tensors) is None


def test_word_order_documents_hold_out_a_fifth_within_the_budget():
    documents = [torch.arange(n) for n in (50, 60, 70, 80, 90, 100, 110, 120, 130, 140)]
    fitted, held = word_order_documents(documents, seed=0)
    assert len(fitted) == 8 and len(held) == 2 and not {id(d) for d in fitted} & {id(d) for d in held}
    fitted, held = word_order_documents(documents, seed=0, max_tokens=300)
    assert sum(len(d) for d in fitted + held) <= 300
    assert word_order_documents(documents[:1], seed=0) == (documents[:1], documents[:1])


TARGET = "lord said unto moses aaron children israel offering".split()
NEAR = "def class import return yield lambda print module".split()
UNRELATED = "the of and to in is was for".split()


def ordered_contexts(tokenizer, words: list[str], count: int, seed: int, length: int = 16) -> torch.Tensor:
    """Windows of the words repeated in their order, each from a random offset: a target with a word order."""
    ids = torch.tensor([tokenizer.convert_tokens_to_ids(w) for w in words])
    offsets = torch.randint(0, len(ids), (count,), generator=torch.Generator().manual_seed(seed))
    return ids[(offsets[:, None] + torch.arange(length)[None, :]) % len(ids)]


@pytest.fixture()
def ordered_target_learner(tiny_gpt2, tokenizer):
    """A learner whose target has a word order; gains high for target and near-domain text, low for unrelated."""
    noise = torch.Generator().manual_seed(3)
    target = ordered_contexts(tokenizer, TARGET, 60, 1)
    contexts = torch.cat([target, contexts_of(tokenizer, NEAR, 60, 2), contexts_of(tokenizer, UNRELATED, 60, 3)])
    gains = torch.cat([1 + 0.3 * torch.randn(120, generator=noise), -1 + 0.3 * torch.randn(60, generator=noise)])
    config = BuildConfig(context_length=16, calibration_contexts=200, head=HeadTrainingConfig(head="bag_of_tokens"))
    held_out_target = ordered_contexts(tokenizer, TARGET, 200, 7)
    learner = learner_from_pairs(tiny_gpt2, tokenizer, REF, contexts, gains, config=config,
                                 probe=ProbeInfo(name="fast"), target=CorpusInfo(name="target"),
                                 pool=CorpusInfo(name="pool"), calibration=contexts, target_calibration=held_out_target)
    split = CorpusSplit(objective=held_out_target[:4], test=held_out_target[4:8],
                        train=ContextStream(list(contexts), 16),
                        target_train=ContextStream(list(ordered_contexts(tokenizer, TARGET, 40, 8)), 16))
    attach_target_affinity(learner, tokenizer, split, contexts, held_out_target, config)
    return learner


def kept(learner, contexts: torch.Tensor) -> float:
    return float(InformationGainFilter(learner, DefaultLevel()).select_before_forward(contexts, 0).float().mean())


def test_the_default_drops_the_targets_words_in_no_order(ordered_target_learner, tokenizer, tiny_gpt2, tmp_path):
    in_order = ordered_contexts(tokenizer, TARGET, 300, 21)
    salad = contexts_of(tokenizer, TARGET, 300, 22)           # the target's words, drawn in no order
    metrics = ordered_target_learner.metadata.metrics
    assert metrics["order_target_std"] > 0 and "order_gate" in metrics
    assert kept(ordered_target_learner, in_order) > 0.8
    assert kept(ordered_target_learner, salad) < 0.1
    folder = ordered_target_learner.save(tmp_path / "learner")
    write_folder_card(folder, ordered_target_learner.metadata, repo_id="local/ordered", version=None)
    assert "word bigram model" in (folder / "README.md").read_text()      # the card says what the default reads
    loaded = InformationGainLearner.load(folder, tiny_gpt2, tokenizer)
    assert loaded.word_order is not None
    with_order = ordered_target_learner.affinity_score(salad)
    assert torch.allclose(loaded.affinity_score(salad), with_order, atol=1e-5)
    in_order_scores = ordered_target_learner.affinity_score(in_order)
    ordered_target_learner.word_order = None     # a learner saved before word order: gain plus affinity alone
    assert (with_order < ordered_target_learner.affinity_score(salad) - 1).float().mean() > 0.9   # the penalty
    assert (in_order_scores == ordered_target_learner.affinity_score(in_order)).float().mean() > 0.9   # none here
