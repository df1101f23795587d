"""The default threshold places its cut where held-out *target* text scores, so it adapts to the pool:
a clean pool keeps nearly everything, off-target text is dropped, where a top fraction keeps a fixed share."""

import pytest
import torch

from learners.base_models import BaseModelRef
from learners.constants import DEFAULT_TARGET_QUANTILE
from learners.corpora.contexts import ContextStream
from cards.format.errors import LearnerHubError
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.igf.build import BuildConfig, learner_from_pairs
from learners.igf.filter import InformationGainFilter
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.thresholds import DefaultLevel, TargetQuantile, TopFraction, parse_threshold
from cards.format.metadata_sections import CorpusInfo, ProbeInfo

REF = BaseModelRef(model_id="tiny/gpt2", revision=None, name_or_path="tiny/gpt2")


def contexts_of(tokenizer, words: list[str], count: int, seed: int, length: int = 16) -> torch.Tensor:
    ids = [tokenizer.convert_tokens_to_ids(w) for w in words]
    ids = [i for i in ids if i != tokenizer.unk_token_id]
    assert len(ids) >= 4, "the tiny tokenizer should know these words whole"
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, len(ids), (count, length), generator=generator)
    return torch.tensor(ids)[picks]


@pytest.fixture()
def target_and_other(tokenizer):
    target_words = "lord said unto moses aaron children israel offering".split()
    other_words = "def class import return yield lambda print module".split()
    return (lambda n, seed: contexts_of(tokenizer, target_words, n, seed),
            lambda n, seed: contexts_of(tokenizer, other_words, n, seed))


@pytest.fixture()
def mixed_learner(tiny_gpt2, tokenizer, target_and_other):
    """A learner trained on a half-target pool whose measured gain is high for target text, low otherwise."""
    target, other = target_and_other
    contexts = torch.cat([target(80, 1), other(80, 2)])
    gains = torch.cat([1 + 0.3 * torch.randn(80, generator=torch.Generator().manual_seed(3)),
                       -1 + 0.3 * torch.randn(80, generator=torch.Generator().manual_seed(4))])
    config = BuildConfig(context_length=16, head=HeadTrainingConfig(head="bag_of_tokens"))
    return learner_from_pairs(tiny_gpt2, tokenizer, REF, contexts, gains, config=config,
                              probe=ProbeInfo(name="fast"), target=CorpusInfo(name="target"),
                              pool=CorpusInfo(name="pool"), calibration=torch.cat([target(100, 5), other(100, 6)]),
                              target_calibration=target(200, 7))


def kept(learner, threshold, contexts: torch.Tensor) -> float:
    igf = InformationGainFilter(learner, threshold)
    return float(igf.select_before_forward(contexts, 0).float().mean())


def test_target_threshold_adapts_to_the_pool(mixed_learner, target_and_other):
    target, other = target_and_other
    clean_pool, junk = target(400, 11), other(400, 12)
    default = InformationGainFilter(mixed_learner).requested
    assert default == DefaultLevel(DEFAULT_TARGET_QUANTILE)
    assert not mixed_learner.has_affinity   # built without one: the default is the target level on gain
    assert default.chosen(mixed_learner) == TargetQuantile(DEFAULT_TARGET_QUANTILE)
    assert kept(mixed_learner, default, clean_pool) > 0.8           # a clean pool keeps nearly everything
    assert kept(mixed_learner, default, junk) < 0.1                 # off-target text is dropped
    assert kept(mixed_learner, TopFraction(0.5), clean_pool) > 0.9  # the pool's top half is this pool's target half
    assert 0.35 < kept(mixed_learner, TopFraction(0.5), torch.cat([clean_pool, junk])) < 0.65


def test_target_quantile_is_recorded_and_described(mixed_learner):
    metrics = mixed_learner.metadata.metrics
    assert len(metrics["target_prediction_quantiles"]) == 101 and metrics["target_calibration_contexts"] == 200
    assert mixed_learner.target_score_quantile(0.1) > mixed_learner.score_quantile(0.1)   # target scores above the pool
    described = InformationGainFilter(mixed_learner, TargetQuantile(0.2)).describe()["threshold"]
    assert described["kind"] == "target" and described["quantile"] == 0.2
    assert described["value"] == pytest.approx(mixed_learner.target_score_quantile(0.2))


def test_learners_without_target_calibration_fall_back_to_the_pool(mixed_learner):
    del mixed_learner.metadata.metrics["target_prediction_quantiles"]
    assert mixed_learner.target_score_quantile(0.3) == mixed_learner.score_quantile(0.3)


def test_parse_target_threshold():
    assert parse_threshold("target") == TargetQuantile(DEFAULT_TARGET_QUANTILE)
    assert parse_threshold("target:0.05") == TargetQuantile(0.05)
    for bad in ("target:1", "target:-0.1", "target:0.1,0.2"):
        with pytest.raises(ValueError, match="Bad threshold"):
            parse_threshold(bad)


def test_cosine_schedule_decays_and_bad_schedules_are_refused(tiny_gpt2, target_and_other):
    target, _ = target_and_other
    train, test = ContextStream(list(target(64, 1)), 16), target(8, 2)
    initial = {k: v.clone() for k, v in tiny_gpt2.state_dict().items()}
    results = {}
    for schedule in ("constant", "cosine"):
        tiny_gpt2.load_state_dict(initial)
        results[schedule] = finetune(tiny_gpt2, train, test, None,
                                     FinetuneConfig(steps=6, batch_size=4, lr=3e-3, eval_every=3, lr_schedule=schedule))
    assert results["cosine"].final_perplexity != results["constant"].final_perplexity
    assert results["cosine"].config["lr_schedule"] == "cosine"
    with pytest.raises(LearnerHubError, match="lr_schedule"):
        finetune(tiny_gpt2, train, test, None, FinetuneConfig(steps=2, batch_size=4, lr_schedule="step"))
