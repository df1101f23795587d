"""Within-target weighting: every context is trained on, its loss weighted by the learner's predicted gain;
sharpness 0 is plain fine-tuning, exactly."""

import pytest
import torch

from learners.corpora.contexts import ContextStream
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.igf.weighting import GainWeighting
from test_target_threshold import mixed_learner, target_and_other  # noqa: F401 (fixtures)


def test_weights_follow_the_predicted_gain_and_keep_the_loss_scale(mixed_learner, target_and_other):
    target, other = target_and_other
    weights = GainWeighting(mixed_learner, sharpness=1.0).loss_weights(torch.cat([target(4, 1), other(4, 2)]), 0)
    assert weights.mean() == pytest.approx(1.0, abs=1e-5)
    assert weights[:4].min() > weights[4:].max()   # the target's contexts weigh more


def run(model, learner_filter, target_and_other):
    target, other = target_and_other
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(0)   # dropout draws from the global generator
    stream = ContextStream(list(torch.cat([target(24, 3), other(24, 4)])), 16)
    result = finetune(model, stream, target(8, 5), learner_filter, FinetuneConfig(steps=3, batch_size=4, lr=1e-3,
                                                                                 eval_every=3, seed=0))
    model.load_state_dict(initial)
    return result


def test_sharpness_zero_is_plain_fine_tuning_and_sharpness_changes_training(tiny_gpt2, mixed_learner,
                                                                            target_and_other):
    plain = run(tiny_gpt2, None, target_and_other)
    flat = run(tiny_gpt2, GainWeighting(mixed_learner, sharpness=0.0), target_and_other)
    sharp = run(tiny_gpt2, GainWeighting(mixed_learner, sharpness=4.0), target_and_other)
    assert flat.final_perplexity == pytest.approx(plain.final_perplexity, rel=1e-5)
    assert flat.lm_backward_contexts == plain.lm_backward_contexts == sharp.lm_backward_contexts == 12
    assert sharp.final_perplexity != pytest.approx(plain.final_perplexity, rel=1e-4)


def test_negative_sharpness_is_refused(mixed_learner):
    with pytest.raises(ValueError, match="sharpness"):
        GainWeighting(mixed_learner, sharpness=-1)
