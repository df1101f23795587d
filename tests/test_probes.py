"""The information-gain probes: the exact one means what the paper says, the fast one agrees with it."""

import pytest
import torch
from model_helpers import (
    make_tiny_gpt2,
    make_tiny_llama,
    synthetic_documents,
    train_tokenizer,
)
from scipy.stats import spearmanr

from learners.igf.information_gain import ExactInformationGainProbe, FastInformationGainProbe

BIBLE = "the lord said unto moses and aaron speak to children of israel offering beginning god heaven earth".split()
CODE = "def class import return yield lambda async await print list dict tuple module function argument".split()


@pytest.fixture(scope="module")
def two_domains():
    bible = synthetic_documents(30, 40, seed=1, vocabulary=BIBLE)
    code = synthetic_documents(30, 40, seed=2, vocabulary=CODE)
    tokenizer = train_tokenizer(bible + code, vocab_size=120)

    def windows(texts):
        return torch.stack([torch.tensor(tokenizer(t)["input_ids"][:24]) for t in texts])

    return tokenizer, windows(bible), windows(code)


def test_exact_gain_is_positive_on_objective_documents_and_lower_on_unrelated_text(two_domains):
    tokenizer, bible, code = two_domains
    model = make_tiny_gpt2(tokenizer)
    objective = bible[:10]
    probe = ExactInformationGainProbe(model, objective, lr=1e-3)
    own = probe(bible[:10])        # contexts drawn from the objective set's own documents
    unrelated = probe(code[:10])
    assert (own > 0).all()
    assert (own.unsqueeze(1) > unrelated.unsqueeze(0)).float().mean() > 0.8


def test_exact_probe_leaves_the_model_unchanged(two_domains):
    tokenizer, bible, code = two_domains
    model = make_tiny_llama(tokenizer)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ExactInformationGainProbe(model, bible[:5], lr=1e-3)(code[:3])
    FastInformationGainProbe(model, bible[:5], lr=1e-3)(code[:3])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("make_model, minimum", [(make_tiny_gpt2, 0.8), (make_tiny_llama, 0.6)])
def test_fast_probe_ranks_contexts_like_the_exact_probe(two_domains, make_model, minimum):
    tokenizer, bible, code = two_domains
    model = make_model(tokenizer)
    objective = bible[:10]
    contexts = torch.cat([bible[10:25], code[:15]])
    exact = ExactInformationGainProbe(model, objective, lr=1e-3)(contexts)
    fast = FastInformationGainProbe(model, objective, lr=1e-3, batch_size=8, row_fraction=1.0)(contexts)
    assert spearmanr(exact, fast)[0] > minimum


def test_fast_probe_does_not_depend_on_batching(two_domains):
    tokenizer, bible, code = two_domains
    model = make_tiny_gpt2(tokenizer)
    contexts = torch.cat([bible[10:16], code[:6]])
    small = FastInformationGainProbe(model, bible[:6], batch_size=3)(contexts)
    large = FastInformationGainProbe(model, bible[:6], batch_size=12)(contexts)
    assert torch.allclose(small, large, rtol=1e-3, atol=1e-6)
