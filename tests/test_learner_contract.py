"""One contract for every registered learner kind (timm / peft style): save and load round trip, a wrong
base model refused, a tampered weights file refused, a card rendered, publish and pull.

A kind registered without a factory here fails `test_every_registered_kind_has_a_contract`, so a new
kind cannot skip the contract.
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import torch
from model_helpers import make_tiny_gpt2, metadata_for
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

import learners
import registry
from learners.errors import BaseModelMismatchError, LearnerFormatError
from learners.kinds import learner_kind, learner_kinds
from learners.learner import Learner
from learners.loading import load_learner
from registry.cards import render_card
from registry.naming import slug


def make_igf(model, tokenizer) -> Learner:
    from learners.igf.conv_head import InformationGainHead
    from learners.igf.learner import InformationGainLearner

    torch.manual_seed(0)
    return InformationGainLearner(InformationGainHead(32, channels=8, hidden=4), metadata_for(model, tokenizer))


def make_streaming(model, tokenizer) -> Learner:
    from learners.streaming.learner import StreamingLearner
    from learners.streaming.meta_predictors import make_predictor

    predictor = make_predictor("hashed_logistic", vocab_size=len(tokenizer), buckets=256)
    generator = torch.Generator().manual_seed(0)
    predictor.update(torch.randint(0, len(tokenizer), (16, 12), generator=generator),
                     torch.randint(0, 2, (16,), generator=generator))
    metadata = dataclasses.replace(metadata_for(model, tokenizer), kind="streaming")
    return StreamingLearner(predictor, 2.5, metadata)


def make_text_igf(model, tokenizer) -> Learner:
    from learners.constants import ANY_BASE_MODEL
    from learners.metadata import BaseModelInfo
    from learners.text_igf.features import TextFeatures
    from learners.text_igf.learner import TextInformationGainLearner
    from learners.text_igf.head import TextRidgeHead

    head = TextRidgeHead(TextFeatures(buckets=256))
    texts = [f"text {i} " * (i % 4 + 1) for i in range(12)]
    head.fit(head.features.transform(texts), torch.arange(12, dtype=torch.float64).numpy())
    metadata = dataclasses.replace(metadata_for(model, tokenizer), kind="igf_text", tokenizer_fingerprint="",
                                   embedding_fingerprint={}, base_model=BaseModelInfo(model_id=ANY_BASE_MODEL),
                                   labeller=BaseModelInfo(model_id="tiny/gpt2"))
    return TextInformationGainLearner(head, metadata)


#: What a kind's learner answers for some token ids: two learners that behave alike answer alike.
FACTORIES = {
    "igf": (make_igf, lambda learner, ids: learner.score(ids)),
    "igf_text": (make_text_igf, lambda learner, ids: learner.score(ids)),
    "streaming": (make_streaming, lambda learner, ids: learner.predictor.predict_proba(ids)),
}


def test_every_registered_kind_has_a_contract():
    assert sorted(FACTORIES) == learner_kinds()


@pytest.fixture(params=sorted(FACTORIES))
def kind(request) -> str:
    return request.param


def test_save_load_round_trip_keeps_behaviour_and_metadata(kind, tmp_path, tiny_gpt2, tokenizer):
    make, behaviour = FACTORIES[kind]
    learner = make(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    assert isinstance(learner, Learner) and learner.kind == kind
    learner.save(tmp_path / "learner")
    loaded = load_learner(tmp_path / "learner", tiny_gpt2, tokenizer)
    assert type(loaded) is learner_kind(kind).load_class() and loaded.attached
    ids = torch.randint(0, len(tokenizer), (5, 12), generator=torch.Generator().manual_seed(1))
    assert torch.equal(behaviour(learner, ids), behaviour(loaded, ids))
    assert loaded.metadata.to_dict() == learner.metadata.to_dict()


def test_a_wrong_base_model_is_refused_unless_the_kind_reads_text(kind, tmp_path, tiny_gpt2, tokenizer):
    make, _ = FACTORIES[kind]
    make(tiny_gpt2, tokenizer).save(tmp_path / "learner")
    if learner_kind(kind).any_base_model:   # reads text: every base model is its own
        assert load_learner(tmp_path / "learner", make_tiny_gpt2(tokenizer, seed=7), tokenizer).attached
        return
    with pytest.raises(BaseModelMismatchError, match="tiny/gpt2"):
        load_learner(tmp_path / "learner", make_tiny_gpt2(tokenizer, seed=7), tokenizer)


def test_a_tampered_weights_file_is_refused(kind, tmp_path, tiny_gpt2, tokenizer):
    make, _ = FACTORIES[kind]
    folder = make(tiny_gpt2, tokenizer).save(tmp_path / "learner")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: len(weights.read_bytes()) // 2])
    with pytest.raises(LearnerFormatError):
        load_learner(folder, tiny_gpt2, tokenizer)


def test_a_card_is_rendered_with_the_kinds_method_tag(kind, tiny_gpt2, tokenizer):
    make, _ = FACTORIES[kind]
    card = render_card(make(tiny_gpt2, tokenizer).metadata, repo_id=f"local/{kind}-tiny-gpt2-tiny", version="1.0.0")
    assert learner_kind(kind).method_tag in card.data.tags
    assert card.data.library_name == "learnerhub"


def test_publish_and_pull_round_trip(kind, tmp_path, tiny_gpt2, tokenizer):
    make, behaviour = FACTORIES[kind]
    learner = make(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    published = registry.publish(learner.save(tmp_path / "learner"), version="1.0.0", store=tmp_path / "store")
    assert published.version == "1.0.0" and published.repo_id.startswith(f"local/{slug(kind)}-")
    pulled = registry.pull("tiny", base_model="tiny/gpt2", kind=kind, store=tmp_path / "store",
                           model=tiny_gpt2, tokenizer=tokenizer)
    ids = torch.randint(0, len(tokenizer), (4, 12), generator=torch.Generator().manual_seed(2))
    assert torch.equal(behaviour(learner, ids), behaviour(pulled.learner, ids))
    assert pulled.resolution.version == "1.0.0"


def test_push_to_hub_and_load_by_repository_id(kind, tmp_path, tiny_gpt2, tokenizer):
    make, behaviour = FACTORIES[kind]
    learner = make(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    published = learner.push_to_hub("team", version="0.1.0", store=tmp_path / "store")
    loaded = load_learner(f"{published.repo_id}@0.1.0", tiny_gpt2, tokenizer, store=tmp_path / "store")
    assert loaded.kind == kind and loaded.attached and published.repo_id.startswith(f"team/{slug(kind)}-")
    ids = torch.randint(0, len(tokenizer), (4, 12), generator=torch.Generator().manual_seed(2))
    assert torch.equal(behaviour(learner, ids), behaviour(loaded, ids))


def test_every_public_export_resolves():
    for name in learners.__all__:
        assert getattr(learners, name) is not None, name
    for package in ("learners", "registry", "server"):
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{package}.{name} is exported but does not resolve"
