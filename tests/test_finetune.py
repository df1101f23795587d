"""The fine-tuning loop and the IGF filter: rejected contexts never reach the language model."""

import pytest
import torch
from model_helpers import ForwardRecorder

from learners.context_filter import ContextFilter
from learners.corpora.contexts import TokenizedCorpus
from learners.corpora.corpus import load_corpus
from learners.finetuning.training.loop import FilterTooStrictError, FinetuneConfig, finetune
from learners.igf.filter import InformationGainFilter
from learners.igf.thresholds import ConstantThreshold, ShiftingThreshold, parse_threshold


@pytest.fixture()
def split(tokenizer, jsonl_corpus):
    tokenized = TokenizedCorpus.from_corpus(load_corpus(jsonl_corpus), tokenizer, context_length=16)
    return tokenized.split(objective_size=4, test_size=6, seed=0)


def test_thresholds():
    shifting = ShiftingThreshold()
    assert [shifting.at(s) for s in (0, 9, 10, 59)] == [1.0, 1.0, -1.0, -1.0]
    assert ConstantThreshold(0.5).at(100) == 0.5
    assert parse_threshold("shifting:2,-0.5,3") == ShiftingThreshold(2.0, -0.5, 3)
    assert parse_threshold("constant:0.25") == ConstantThreshold(0.25)
    with pytest.raises(ValueError, match="Bad threshold"):
        parse_threshold("sometimes")


def test_standard_finetuning_lowers_test_perplexity(tiny_gpt2, split):
    config = FinetuneConfig(steps=12, batch_size=4, lr=3e-3, eval_every=4)
    result = finetune(tiny_gpt2, split.train, split.test, ContextFilter(), config)
    assert [e["step"] for e in result.evaluations] == [0, 4, 8, 12]
    assert result.final_perplexity < result.evaluations[0]["test_perplexity"]
    assert len(result.train_loss) == 12
    assert result.lm_forward_contexts == result.lm_backward_contexts == 48
    assert result.skipped_before_forward == 0


def score_quantiles(learner, split, *qs):
    sample = learner.score(split.train.sample(400, torch.Generator().manual_seed(9)))
    return [float(sample.quantile(q)) for q in qs]


def test_rejected_contexts_never_reach_the_language_model(tiny_gpt2, split, random_learner):
    strict, loose = score_quantiles(random_learner, split, 0.7, 0.3)
    threshold = ShiftingThreshold(start=strict, end=loose, shift_step=3)
    igf = InformationGainFilter(random_learner, threshold)
    # Frozen embeddings keep the learner's scores the same after training as when it decided.
    tiny_gpt2.get_input_embeddings().weight.requires_grad_(False)
    recorder = ForwardRecorder(tiny_gpt2)
    config = FinetuneConfig(steps=6, batch_size=4, lr=1e-3, eval_every=100, candidates_per_draw=16)
    try:
        result = finetune(tiny_gpt2, split.train, split.test, igf, config)
    finally:
        recorder.handle.remove()
    trained = torch.cat([b for b in recorder.batches if b.shape[1] == 16 and len(b) == 4])
    evaluation_rows = len(recorder.rows) - len(trained)
    assert evaluation_rows == len(split.test) * len(result.evaluations)   # the rest are test-set evaluations
    assert len(trained) == result.lm_forward_contexts == 24
    assert result.skipped_before_forward > 0
    assert result.skipped_before_forward > 0.3 * result.contexts_seen
    scores = random_learner.score(trained)
    assert (scores >= loose - 1e-6).all()
    assert (scores[:12] >= strict - 1e-6).all()   # the first 3 steps used the strict threshold


def test_a_filter_that_accepts_nothing_is_a_clear_error(tiny_gpt2, split, random_learner):
    igf = InformationGainFilter(random_learner, ConstantThreshold(1e6))
    config = FinetuneConfig(steps=2, batch_size=4, max_candidates_per_step=128)
    with pytest.raises(FilterTooStrictError, match="Lower the threshold"):
        finetune(tiny_gpt2, split.train, split.test, igf, config)


def test_comparison_restores_the_model_and_reports_both_arms(tiny_gpt2, split, random_learner):
    from learners.finetuning.evaluation.comparison import compare_filters, comparison_table

    before = {k: v.clone() for k, v in tiny_gpt2.state_dict().items()}
    config = FinetuneConfig(steps=4, batch_size=4, lr=1e-3, eval_every=2)
    median, = score_quantiles(random_learner, split, 0.5)
    igf = InformationGainFilter(random_learner, ConstantThreshold(median))
    results = compare_filters(tiny_gpt2, split, {"standard": None, "igf": igf}, config)
    assert all(torch.equal(before[k], v) for k, v in tiny_gpt2.state_dict().items())
    initial = [r.evaluations[0]["test_perplexity"] for r in results.values()]
    assert initial[0] == initial[1]
    table = comparison_table(results)
    assert "igf/standard" in table and "skipped before LM" in table
