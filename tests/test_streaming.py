"""The three-stage streaming filter: its threshold, its cutoff, and what it spares the model."""

import pytest
import torch
from model_helpers import ForwardRecorder, marker_labelled_ids, tiny_bert_classifier

from learners.corpora.contexts import TokenizedCorpus
from learners.corpora.corpus import load_corpus
from learners.corpora.examples import Examples
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.streaming.filter import LOSS_THRESHOLD, PREDICTOR, WARMUP, StreamingConfig, StreamingFilter
from learners.streaming.meta_predictors import BernoulliNaiveBayes, HashedLogisticRegression, make_predictor


@pytest.fixture()
def split(tokenizer, jsonl_corpus):
    tokenized = TokenizedCorpus.from_corpus(load_corpus(jsonl_corpus), tokenizer, context_length=16)
    return tokenized.split(objective_size=4, test_size=6, seed=0)


def distinct_contexts(split, count: int) -> Examples:
    contexts = torch.unique(split.train.sample(3 * count, torch.Generator().manual_seed(1)), dim=0)
    return Examples(contexts[torch.randperm(len(contexts), generator=torch.Generator().manual_seed(2))[:count]])


def rows(tensor: torch.Tensor) -> set:
    return {tuple(row) for row in tensor.tolist()}


class GradRecorder(ForwardRecorder):
    """Also records whether each forward pass builds a graph (training) or not (scoring, evaluation)."""

    def __call__(self, module, args, kwargs):
        super().__call__(module, args, kwargs)
        self.batches[-1] = (self.batches[-1], torch.is_grad_enabled())


@pytest.mark.parametrize("name", ["bernoulli_nb", "hashed_logistic"])
def test_predictors_learn_which_examples_carry_a_marker_token(name):
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(2, 60, (600, 12), generator=generator)
    labels = torch.rand(600, generator=generator) < 0.4
    ids[labels, 3] = 61   # the "important" examples contain token 61
    ids[:, -2:] = 0       # padding, which must not count
    predictor = make_predictor(name, vocab_size=64, pad_token_id=0)
    assert torch.allclose(predictor.predict_proba(ids[:4]), predictor.predict_proba(ids[:4]))
    for start in range(0, 500, 10):   # online: many small chunks
        predictor.update(ids[start:start + 10], labels[start:start + 10])
    accuracy = ((predictor.predict_proba(ids[500:]) >= 0.5) == labels[500:]).float().mean()
    assert accuracy > 0.9


def test_bernoulli_naive_bayes_is_the_closed_form():
    nb = BernoulliNaiveBayes(4, alpha=1.0)
    nb.update(torch.tensor([[0, 1], [1, 1], [2, 3]]), torch.tensor([1, 1, 0]))
    p1 = torch.tensor([2, 3, 1, 1]) / 4.0   # class 1: 2 examples, token 0 in 1, token 1 in 2
    p0 = torch.tensor([1, 1, 2, 2]) / 3.0   # class 0: 1 example with tokens 2 and 3
    x = torch.tensor([1.0, 0, 0, 0])
    joint1 = (3 / 5) * torch.prod(torch.where(x > 0, p1, 1 - p1))
    joint0 = (2 / 5) * torch.prod(torch.where(x > 0, p0, 1 - p0))
    expected = joint1 / (joint0 + joint1)
    assert nb.predict_proba(torch.tensor([[0, 0]])).item() == pytest.approx(expected.item(), rel=1e-5)
    assert isinstance(make_predictor("hashed_logistic", vocab_size=4), HashedLogisticRegression)
    with pytest.raises(ValueError, match="Unknown meta predictor"):
        make_predictor("svm", vocab_size=4)


def test_threshold_is_the_running_mean_of_the_last_window_of_warmup_losses():
    streaming = StreamingFilter(BernoulliNaiveBayes(50), StreamingConfig(warmup_steps=3, threshold_window=10))
    ids = torch.randint(0, 50, (4, 8))
    losses = [torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([5.0, 6.0, 7.0, 8.0]),
              torch.tensor([9.0, 10.0, 11.0, 12.0])]
    for step, batch_losses in enumerate(losses):
        assert streaming.stage == WARMUP and not streaming.wants_losses(step)
        streaming.observe_training(ids, batch_losses, step)
    assert streaming.stage == LOSS_THRESHOLD
    assert streaming.threshold == pytest.approx(sum(range(3, 13)) / 10)   # the last 10 of 12 losses
    assert streaming.transitions == [{"from": WARMUP, "to": LOSS_THRESHOLD, "step": 3, "recent_loss": None,
                                      "threshold": streaming.threshold}]
    assert streaming.counts["predictor_examples"] == 12   # the warm-up examples, labelled by the threshold



def test_a_plateau_warmup_lasts_until_the_loss_stops_falling():
    config = StreamingConfig(warmup_steps=2, threshold_window=4, plateau_tolerance=0.1)
    streaming = StreamingFilter(BernoulliNaiveBayes(50), config)
    ids = torch.randint(0, 50, (4, 8))
    # window means 4.0, 2.0 (falling by half), 1.5 (by a quarter), 1.4 (by under a tenth: the plateau)
    for step, level in enumerate([4.0, 2.0, 1.5, 1.4]):
        assert streaming.stage == WARMUP, f"warm-up ended early, at step {step}"
        streaming.observe_training(ids, torch.full((4,), level), step)
    assert streaming.stage == LOSS_THRESHOLD and streaming.transitions[0]["step"] == 4
    assert streaming.threshold == pytest.approx(1.4)   # the last window, not the two compared


def test_a_plateau_warmup_stops_at_its_cap_while_the_loss_still_falls():
    config = StreamingConfig(warmup_steps=1, threshold_window=4, plateau_tolerance=0.01, max_warmup_steps=3)
    streaming = StreamingFilter(BernoulliNaiveBayes(50), config)
    for step, level in enumerate([8.0, 4.0, 2.0]):
        streaming.observe_training(torch.randint(0, 50, (4, 8)), torch.full((4,), level), step)
    assert streaming.stage == LOSS_THRESHOLD and streaming.threshold == pytest.approx(2.0)

def test_stage_two_starts_exactly_when_the_recent_loss_reaches_the_cutoff():
    config = StreamingConfig(cutoff_ratio=0.8, cutoff_window=4, min_predictor_examples=0,
                             min_predictor_balanced_accuracy=0.0)   # the loss condition alone
    streaming = StreamingFilter(BernoulliNaiveBayes(50), config, start_stage=LOSS_THRESHOLD, threshold=2.0)
    ids = torch.randint(0, 50, (2, 8))
    # recent means over windows of 4 losses: -, 2.0, 1.9, 1.75, 1.55 (under the cutoff 1.6 at step 4)
    for step, pair in enumerate([[2.0, 2.0], [2.0, 2.0], [1.8, 1.8], [1.7, 1.7], [1.4, 1.4], [3.0, 3.0]]):
        streaming.select_after_forward(ids, torch.tensor(pair), step)
        assert streaming.stage == (PREDICTOR if step >= 4 else LOSS_THRESHOLD), step
    assert len(streaming.transitions) == 1 and streaming.transitions[0]["step"] == 4
    assert streaming.transitions[0]["recent_loss"] == pytest.approx(1.55)
    assert streaming.cutoff == pytest.approx(1.6)


def test_the_cutoff_waits_for_a_predictor_that_has_learned_enough():
    config = StreamingConfig(cutoff_window=2, min_predictor_examples=6, min_predictor_balanced_accuracy=0.0)
    streaming = StreamingFilter(BernoulliNaiveBayes(50), config, start_stage=LOSS_THRESHOLD, threshold=5.0)
    ids = torch.randint(0, 50, (2, 8))
    for step in range(3):
        assert streaming.stage == LOSS_THRESHOLD
        streaming.select_after_forward(ids, torch.tensor([1.0, 1.0]), step)
    assert streaming.stage == PREDICTOR and streaming.transitions[-1]["step"] == 2


def test_the_cutoff_waits_for_a_predictor_better_than_a_coin():
    config = StreamingConfig(cutoff_ratio=100.0, cutoff_window=32, min_predictor_examples=0,
                             min_predictor_balanced_accuracy=0.8)
    streaming = StreamingFilter(BernoulliNaiveBayes(64), config, start_stage=LOSS_THRESHOLD, threshold=1.0)
    generator = torch.Generator().manual_seed(0)
    for step in range(10):   # loss above the threshold at random: nothing in the tokens tells
        ids = torch.randint(0, 60, (16, 8), generator=generator)
        streaming.select_after_forward(ids, 2 * torch.rand(16, generator=generator), step)
        assert streaming.stage == LOSS_THRESHOLD, f"a coin-flip predictor reached stage 2 at step {step}"
    assert streaming.recent_balanced_accuracy() < 0.8
    for step in range(10, 30):   # now the examples above the threshold carry token 63
        ids = torch.randint(0, 60, (16, 8), generator=generator)
        above = torch.rand(16, generator=generator) < 0.5
        ids[above, 0] = 63
        streaming.select_after_forward(ids, torch.where(above, 2.0, 0.5), step)
        if streaming.stage == PREDICTOR:
            break
    assert streaming.stage == PREDICTOR and streaming.stats()["recent_predictor_balanced_accuracy"] >= 0.8


def test_under_threshold_examples_get_no_backward_pass(tiny_gpt2, split):
    examples = distinct_contexts(split, 192)
    streaming = StreamingFilter(make_predictor("bernoulli_nb", vocab_size=tiny_gpt2.config.vocab_size),
                                StreamingConfig(warmup_steps=3, threshold_window=16, min_predictor_examples=10 ** 6))
    accepted_after_forward = []
    original = streaming.select_after_forward

    def spy(input_ids, losses, step):
        keep = original(input_ids, losses, step)
        assert (losses[keep] > streaming.threshold).all() and (losses[~keep] <= streaming.threshold).all()
        accepted_after_forward.append(input_ids[keep])
        return keep

    streaming.select_after_forward = spy
    recorder = GradRecorder(tiny_gpt2)
    config = FinetuneConfig(steps=None, batch_size=4, lr=1e-3, eval_every=10 ** 6, candidates_per_draw=8)
    try:
        result = finetune(tiny_gpt2, examples, split.test, streaming, config)
    finally:
        recorder.handle.remove()
    trained = torch.cat([batch for batch, grad in recorder.batches if grad])
    stats = result.filter_stats
    assert result.contexts_seen == 192 and stats["stage"] == LOSS_THRESHOLD
    accepted = torch.cat(accepted_after_forward)
    warmup = 192 - stats["forwarded"]   # drawn in stage 0 (a batch or so more than the 3 warm-up steps)
    assert 12 <= warmup <= 20 and stats["warmup_trained"] == 12
    assert len(trained) == result.lm_backward_contexts == warmup + len(accepted)
    assert result.skipped_after_forward == stats["skipped_backward"] > 0
    assert result.skipped_after_forward + len(accepted) == stats["forwarded"] == result.scoring_forward_contexts
    assert rows(trained[warmup:]) == rows(accepted)   # after the warm-up: only examples above the threshold
    assert result.lm_backward_contexts < 0.7 * 192


def test_stage_two_skips_forward_passes_and_works_with_frozen_layers(tiny_gpt2, split):
    examples = distinct_contexts(split, 160)
    predictor = make_predictor("bernoulli_nb", vocab_size=tiny_gpt2.config.vocab_size)
    half = torch.rand(len(examples), generator=torch.Generator().manual_seed(0)) < 0.5
    predictor.update(examples.input_ids, half)   # a "warm" predictor: half the examples are important
    streaming = StreamingFilter(predictor, start_stage=PREDICTOR, threshold=0.0)  # every loss is above 0
    rejected = []
    original = streaming.select_before_forward

    def spy(input_ids, step):
        keep = original(input_ids, step)
        rejected.append(input_ids[~keep])
        return keep

    streaming.select_before_forward = spy
    for name, parameter in tiny_gpt2.named_parameters():
        parameter.requires_grad_(name.startswith("transformer.h.1."))   # only the top block trains
    frozen_before = tiny_gpt2.transformer.h[0].mlp.c_fc.weight.detach().clone()
    recorder = GradRecorder(tiny_gpt2)
    config = FinetuneConfig(steps=None, batch_size=4, lr=1e-3, eval_every=10 ** 6, candidates_per_draw=16)
    try:
        result = finetune(tiny_gpt2, examples, split.test, streaming, config)
    finally:
        recorder.handle.remove()
    skipped = rows(torch.cat(rejected))
    forwarded = rows(torch.cat([batch for batch, _ in recorder.batches])) - rows(split.test)
    assert len(skipped) == result.skipped_before_forward == streaming.counts["skipped_forward"] > 20
    assert not skipped & forwarded
    assert result.scoring_forward_contexts == 160 - len(skipped) == result.lm_backward_contexts
    assert streaming.transitions == [] and result.filter_stats["stage"] == PREDICTOR
    assert torch.equal(tiny_gpt2.transformer.h[0].mlp.c_fc.weight, frozen_before)


def test_classification_with_padding_one_epoch(tokenizer):
    from learners.corpora.tasks import SequenceClassificationTask

    model = tiny_bert_classifier(tokenizer)
    ids, labels = marker_labelled_ids(256)
    lengths = torch.randint(6, 13, (256,), generator=torch.Generator().manual_seed(1))
    mask = (torch.arange(12)[None] < lengths[:, None]).long()
    ids[mask == 0] = 1           # pad id 1
    train, test = Examples(ids[:192], labels[:192], mask[:192]), Examples(ids[192:], labels[192:], mask[192:])
    streaming = StreamingFilter(make_predictor("hashed_logistic", vocab_size=len(tokenizer), pad_token_id=1),
                                StreamingConfig(warmup_steps=4, threshold_window=32, cutoff_window=32,
                                                min_predictor_examples=32))
    config = FinetuneConfig(steps=None, batch_size=8, lr=3e-3, eval_every=10 ** 6, candidates_per_draw=16)
    result = finetune(model, train, test, streaming, config, task=SequenceClassificationTask())
    stats = result.filter_stats
    assert result.contexts_seen == 192 and result.metric == "test_accuracy"
    assert [t["to"] for t in stats["transitions"]][:1] == [LOSS_THRESHOLD]
    assert result.lm_backward_contexts + result.skipped_before_forward + result.skipped_after_forward >= 192
    assert result.lm_backward_contexts < 192
