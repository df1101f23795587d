"""The embedding affinity: a target-vs-pool classifier over mean input embeddings, fitted at build beside the
n-gram one, saved as tensors, and a veto in the default's score (it lowers what sits below the target, never
raises what sits above it)."""

import numpy as np
import pytest
import safetensors.torch
import torch

from cards.model_card.folder_card import write_folder_card
from learners.embedding_affinity import EMBEDDING_AFFINITY_PREFIX, EmbeddingAffinity, mean_input_embeddings
from learners.igf.learner import InformationGainLearner, combined_target_score
from test_target_affinity import near_domain_learner, pools  # noqa: F401  (fixtures)


def clouds(seed: int, n: int = 200, dim: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shift = np.zeros(dim)
    shift[:3] = 1.5
    return rng.normal(size=(n, dim)) + shift, rng.normal(size=(n, dim))


def test_it_separates_target_from_pool_and_round_trips_as_tensors():
    target, pool = clouds(0)
    affinity = EmbeddingAffinity.fit(target, pool)
    held_target, held_pool = clouds(1)
    from sklearn.metrics import roc_auc_score

    odds = np.r_[affinity.log_odds(held_target), affinity.log_odds(held_pool)]
    assert roc_auc_score(np.r_[np.ones(200), np.zeros(200)], odds) > 0.95
    again = EmbeddingAffinity.from_tensors(affinity.tensors())
    assert np.allclose(again.log_odds(held_pool), affinity.log_odds(held_pool), atol=1e-4)


def test_missing_or_malformed_tensors_mean_no_embedding_affinity_and_wrong_widths_say_why():
    tensors = EmbeddingAffinity.fit(*clouds(0)).tensors()
    assert EmbeddingAffinity.from_tensors({}) is None
    assert EmbeddingAffinity.from_tensors({**tensors, f"{EMBEDDING_AFFINITY_PREFIX}mean": torch.zeros(3)}) is None
    with pytest.raises(ValueError, match="16-dimensional"):
        EmbeddingAffinity.from_tensors(tensors).log_odds(np.zeros((2, 5)))


def test_mean_input_embeddings_are_the_rows_means(tiny_gpt2):
    ids = torch.tensor([[1, 2, 3], [4, 4, 4]])
    table = tiny_gpt2.get_input_embeddings().weight.detach()
    assert np.allclose(mean_input_embeddings(ids, tiny_gpt2.get_input_embeddings()), table[ids].mean(1).numpy(),
                       atol=1e-6)


def test_the_learner_carries_it_saves_it_and_it_only_vetoes(near_domain_learner, pools, tiny_gpt2, tokenizer,  # noqa: F811
                                                            tmp_path):
    metrics = near_domain_learner.metadata.metrics
    assert near_domain_learner.embedding_affinity is not None
    assert metrics["embedding_target_std"] > 0 and metrics["order_weight"] > 0
    contexts = torch.cat([pools["target"](20, 31), pools["near"](20, 32), pools["unrelated"](20, 33)])
    folder = near_domain_learner.save(tmp_path / "learner")
    names = set(safetensors.torch.load_file(str(folder / "model.safetensors")))
    assert {f"{EMBEDDING_AFFINITY_PREFIX}{part}" for part in ("coef", "intercept", "mean", "scale")} <= names
    write_folder_card(folder, near_domain_learner.metadata, repo_id="local/near", version=None)
    assert "mean embedding" in (folder / "README.md").read_text()      # the card says what the default reads
    loaded = InformationGainLearner.load(folder, tiny_gpt2, tokenizer)
    assert torch.allclose(loaded.affinity_score(contexts), near_domain_learner.affinity_score(contexts), atol=1e-5)

    gain, odds = np.zeros(3), np.full(3, metrics["affinity_target_mean"])
    at_mean = metrics["embedding_target_mean"]
    above, below = at_mean + 5 * metrics["embedding_target_std"], at_mean - 2 * metrics["embedding_target_std"]
    with_veto = combined_target_score(metrics, gain, odds, None, np.array([above, at_mean, below]))
    without = combined_target_score(metrics, gain, odds, None, None)
    assert np.allclose(with_veto - without, [0.0, 0.0, -2.0])

    loaded.embedding_affinity = None     # a learner saved before the embedding affinity: scored without it
    scores = loaded.affinity_score(contexts)
    assert torch.isfinite(scores).all() and not torch.allclose(scores, near_domain_learner.affinity_score(contexts))
