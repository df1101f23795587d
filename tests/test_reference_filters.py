"""The baselines a learner is measured against accept what they should."""

import pytest
import torch

from learners.finetuning.evaluation.reference_filters import HighLossFilter, OracleFilter, RandomFilter
from learners.igf.bag_of_tokens_head import BagOfTokensHead


def test_random_filter_keeps_its_rate_reproducibly():
    ids = torch.zeros(20000, 4, dtype=torch.long)
    kept = RandomFilter(0.3, seed=1).select_before_forward(ids, 0)
    assert kept.float().mean().item() == pytest.approx(0.3, abs=0.015)
    assert torch.equal(kept, RandomFilter(0.3, seed=1).select_before_forward(ids, 0))
    with pytest.raises(ValueError):
        RandomFilter(0.0)


def test_high_loss_filter_keeps_the_hardest_fraction():
    losses = torch.tensor([0.1, 5.0, 0.3, 4.0, 2.0, 0.2])
    kept = HighLossFilter(0.5).select_after_forward(torch.zeros(6, 2, dtype=torch.long), losses, 0)
    assert kept.tolist() == [False, True, False, True, True, False]
    assert HighLossFilter(0.5).wants_losses(0)


def test_oracle_keeps_the_top_fraction_of_its_table_and_refuses_unprobed_contexts():
    contexts = torch.arange(40).view(20, 2)
    gains = torch.arange(20, dtype=torch.float)
    oracle = OracleFilter(contexts, gains, keep=0.25)
    kept = oracle.select_before_forward(contexts.flip(0), 0)
    assert kept.sum() == 5 and kept[:5].all()          # the five highest gains, wherever they come
    with pytest.raises(ValueError, match="probe the whole pool"):
        oracle.select_before_forward(torch.tensor([[999, 998]]), 0)


def test_bag_of_tokens_ridge_recovers_a_planted_ranking():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 200, (600, 16), generator=generator)
    markers = torch.rand(600, generator=generator) < 0.5
    ids[markers, 3] = 7                                  # "target text" carries token 7
    gains = markers.float() + 0.1 * torch.randn(600, generator=generator)
    head = BagOfTokensHead(vocab_size=256, buckets=4096, alpha=1.0).fit(ids[:500], gains[:500])
    predicted = head(ids[500:])
    assert torch.corrcoef(torch.stack([predicted, gains[500:]]))[0, 1] > 0.9
