"""The IGF learner: it learns a ranking, round-trips exactly, and refuses the wrong base model."""

import json

import pytest
import safetensors.torch
import torch
from model_helpers import make_tiny_gpt2, make_tiny_llama, metadata_for, train_tokenizer

from learners.errors import BaseModelMismatchError
from cards.format.errors import LearnerFormatError
from learners.igf.head_training import HeadTrainingConfig, train_information_gain_head
from learners.igf.learner import InformationGainLearner
from learners.loading import load_learner


@pytest.fixture()
def known_function_pairs(tokenizer):
    """Contexts whose 'gain' is how many of 4 marker tokens they contain, plus a little noise."""
    generator = torch.Generator().manual_seed(0)
    vocab = len(tokenizer)
    markers = torch.tensor([5, 17, 42, 99])
    plain = torch.tensor([t for t in range(vocab) if t not in markers.tolist()])
    contexts = plain[torch.randint(0, len(plain), (400, 24), generator=generator)]
    gains = torch.zeros(400)
    for i in range(400):
        chosen = markers[torch.randperm(4, generator=generator)[:int(torch.randint(0, 5, (1,), generator=generator))]]
        positions = torch.randperm(24, generator=generator)[:len(chosen)]
        contexts[i, positions] = chosen
        gains[i] = len(chosen) + 0.1 * torch.randn(1, generator=generator).item()
    return contexts, gains


def test_learner_recovers_a_known_ranking(tiny_gpt2, known_function_pairs):
    contexts, gains = known_function_pairs
    head, metrics = train_information_gain_head(tiny_gpt2.get_input_embeddings(), contexts, gains,
                                                HeadTrainingConfig(head="conv", lr=3e-3, max_epochs=120, patience=30))
    assert metrics["test_spearman"] > 0.8
    assert 1 <= metrics["best_epoch"] <= metrics["epochs_run"]
    assert metrics["pairs"] == 400
    assert metrics["test_pairs"] + metrics["validation_pairs"] + metrics["train_pairs"] == 400


def test_training_keeps_the_best_epoch_not_the_last(tiny_gpt2, known_function_pairs):
    contexts, gains = known_function_pairs
    _, metrics = train_information_gain_head(tiny_gpt2.get_input_embeddings(), contexts, gains,
                                             HeadTrainingConfig(head="conv", lr=3e-2, max_epochs=40, patience=5))
    assert metrics["epochs_run"] - metrics["best_epoch"] <= 5


def test_save_load_round_trip_is_exact(tmp_path, tiny_gpt2, tokenizer):
    torch.manual_seed(0)
    from learners.igf.conv_head import InformationGainHead

    learner = InformationGainLearner(InformationGainHead(32), metadata_for(tiny_gpt2, tokenizer))
    learner.attach(tiny_gpt2, tokenizer)
    learner.save(tmp_path / "learner")
    assert sorted(p.name for p in (tmp_path / "learner").iterdir()) == [
        "README.md", "config.json", "learner.json", "model.safetensors"]
    card = (tmp_path / "learner" / "README.md").read_text()   # the learner's own card, not the Hub mixin's
    assert "not yet published" in card and "PytorchModelHubMixin" not in card
    loaded = load_learner(tmp_path / "learner", tiny_gpt2, tokenizer)
    ids = torch.randint(0, len(tokenizer), (6, 20))
    assert torch.equal(learner.score(ids), loaded.score(ids))
    assert loaded.metadata.to_dict() == learner.metadata.to_dict()
    assert json.loads((tmp_path / "learner" / "config.json").read_text())["embedding_dim"] == 32
    # the base model's embeddings are not copied into the learner file
    tensors = safetensors.torch.load_file(tmp_path / "learner" / "model.safetensors")
    assert not any(t.shape[0] == len(tokenizer) for t in tensors.values())


@pytest.fixture()
def saved_learner(tmp_path, tiny_gpt2, tokenizer):
    from learners.igf.conv_head import InformationGainHead

    return InformationGainLearner(InformationGainHead(32), metadata_for(tiny_gpt2, tokenizer)).save(tmp_path / "l")


def test_wrong_tokenizer_is_refused(saved_learner, tiny_gpt2, documents):
    other_tokenizer = train_tokenizer(documents[:5], vocab_size=len(tiny_gpt2.get_input_embeddings().weight) - 20)
    with pytest.raises(BaseModelMismatchError, match="built for base model 'tiny/gpt2'.*different vocabulary"):
        load_learner(saved_learner, tiny_gpt2, other_tokenizer)


def test_wrong_embeddings_are_refused(saved_learner, tokenizer):
    other_model = make_tiny_gpt2(tokenizer, seed=1)
    with pytest.raises(BaseModelMismatchError, match="other input embeddings"):
        load_learner(saved_learner, other_model, tokenizer)
    llama = make_tiny_llama(tokenizer)
    with pytest.raises(BaseModelMismatchError, match="tiny/gpt2"):
        load_learner(saved_learner, llama, tokenizer)


def test_same_embeddings_in_another_precision_are_accepted(saved_learner, tiny_gpt2, tokenizer):
    half = make_tiny_gpt2(tokenizer).to(torch.bfloat16)
    learner = load_learner(saved_learner, half, tokenizer)
    assert learner.score(torch.randint(0, len(tokenizer), (2, 8))).shape == (2,)


def test_corrupted_or_pickled_learners_are_refused(saved_learner, tiny_gpt2, tokenizer):
    weights = saved_learner / "model.safetensors"
    original = weights.read_bytes()
    weights.write_bytes(original[: len(original) // 2])
    with pytest.raises(LearnerFormatError, match="corrupted"):
        load_learner(saved_learner, tiny_gpt2, tokenizer)
    weights.unlink()
    torch.save({"conv.weight": torch.zeros(1)}, saved_learner / "pytorch_model.bin")
    with pytest.raises(LearnerFormatError, match="never unpickles"):
        load_learner(saved_learner, tiny_gpt2, tokenizer)
    (saved_learner / "learner.json").write_text("{not json")
    with pytest.raises(LearnerFormatError, match="not valid JSON"):
        load_learner(saved_learner, tiny_gpt2, tokenizer)


def test_a_registered_kind_is_loaded_and_carded_without_touching_the_loader(tmp_path, tiny_gpt2, tokenizer):
    """A third kind is one register_learner_kind call: the loader and the card read the registry."""
    from learners.igf.conv_head import InformationGainHead
    from cards.format.kinds import _KINDS, LearnerKind, learner_kinds, register_learner_kind
    from cards.model_card.render import render_card

    class EchoLearner(InformationGainLearner):
        kind = "echo"

        @classmethod
        def load(cls, folder, model=None, tokenizer=None):
            return "loaded " + json.loads((folder / "learner.json").read_text())["kind"]

    import sys
    sys.modules[__name__].EchoLearner = EchoLearner
    register_learner_kind(LearnerKind("echo", f"{__name__}:EchoLearner", card_template="igf_learner.md",
                                      method_tag="echo-method", task=("echo", "Echo")))
    try:
        metadata = metadata_for(tiny_gpt2, tokenizer)
        metadata.kind = "echo"
        InformationGainLearner(InformationGainHead(32), metadata).save(tmp_path / "echo")
        assert "echo" in learner_kinds()
        assert load_learner(tmp_path / "echo") == "loaded echo"
        assert "echo-method" in render_card(metadata, repo_id="x/echo", version=None).data.tags
    finally:
        _KINDS.pop("echo")
    with pytest.raises(LearnerFormatError, match="Unknown learner kind 'echo'"):
        load_learner(tmp_path / "echo")
