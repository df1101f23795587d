"""One contract for every registered learner kind (timm / peft style): save and load round trip, a wrong
base model refused, a tampered weights file refused, a card rendered, publish and pull.

Every registered kind runs it with the tiny example it registers (`LearnerKind.example`), so a new kind
cannot skip the contract and needs no code here.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from model_helpers import make_tiny_gpt2, synthetic_documents
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

import learners
import registry
from learners.errors import BaseModelMismatchError
from cards.format.errors import LearnerFormatError
from cards.format.kinds import learner_kind, learner_kinds
from learners.learner import Learner
from learners.loading import load_learner
from cards.model_card.render import render_card
from cards.format.naming import slug


def scores(learner) -> np.ndarray:
    """What a learner answers for some documents: two learners that behave alike answer alike."""
    return learner.score_texts(synthetic_documents(4, words=40, seed=5))


def test_every_registered_kind_has_a_contract():
    """Each kind brings its own tiny example (`LearnerKind.example`): no per-name factory here."""
    for name in learner_kinds():
        assert learner_kind(name).has("example"), f"kind {name!r} registers no example for the contract"


@pytest.fixture(params=learner_kinds())
def kind(request) -> str:
    return request.param


def test_save_load_round_trip_keeps_behaviour_and_metadata(kind, tmp_path, tiny_gpt2, tokenizer):
    make = learner_kind(kind).behaviour("example")
    learner = make(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    assert isinstance(learner, Learner) and learner.kind == kind
    learner.save(tmp_path / "learner")
    loaded = load_learner(tmp_path / "learner", tiny_gpt2, tokenizer)
    assert type(loaded) is learner_kind(kind).load_class() and loaded.attached
    assert np.array_equal(scores(learner), scores(loaded))
    assert loaded.metadata.to_dict() == learner.metadata.to_dict()


def test_a_wrong_base_model_is_refused_unless_the_kind_reads_text(kind, tmp_path, tiny_gpt2, tokenizer):
    make = learner_kind(kind).behaviour("example")
    make(tiny_gpt2, tokenizer).save(tmp_path / "learner")
    if learner_kind(kind).any_base_model:   # reads text: every base model is its own
        assert load_learner(tmp_path / "learner", make_tiny_gpt2(tokenizer, seed=7), tokenizer).attached
        return
    with pytest.raises(BaseModelMismatchError, match="tiny/gpt2"):
        load_learner(tmp_path / "learner", make_tiny_gpt2(tokenizer, seed=7), tokenizer)


def test_a_tampered_weights_file_is_refused(kind, tmp_path, tiny_gpt2, tokenizer):
    make = learner_kind(kind).behaviour("example")
    folder = make(tiny_gpt2, tokenizer).save(tmp_path / "learner")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: len(weights.read_bytes()) // 2])
    with pytest.raises(LearnerFormatError):
        load_learner(folder, tiny_gpt2, tokenizer)


def test_a_card_is_rendered_with_the_kinds_method_tag(kind, tiny_gpt2, tokenizer):
    make = learner_kind(kind).behaviour("example")
    card = render_card(make(tiny_gpt2, tokenizer).metadata, repo_id=f"local/{kind}-tiny-gpt2-tiny", version="1.0.0")
    assert learner_kind(kind).method_tag in card.data.tags
    assert card.data.library_name == "learnerhub"


def test_publish_and_pull_round_trip(kind, tmp_path, tiny_gpt2, tokenizer):
    make = learner_kind(kind).behaviour("example")
    learner = make(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    published = registry.publish(learner.save(tmp_path / "learner"), version="1.0.0", store=tmp_path / "store")
    assert published.version == "1.0.0" and published.repo_id.startswith(f"local/{slug(kind)}-")
    pulled = registry.pull("tiny", base_model="tiny/gpt2", kind=kind, store=tmp_path / "store",
                           model=tiny_gpt2, tokenizer=tokenizer)
    assert np.array_equal(scores(learner), scores(pulled.learner))
    assert pulled.resolution.version == "1.0.0"


def test_push_to_hub_and_load_by_repository_id(kind, tmp_path, tiny_gpt2, tokenizer):
    make = learner_kind(kind).behaviour("example")
    learner = make(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    published = learner.push_to_hub("team", version="0.1.0", store=tmp_path / "store")
    loaded = load_learner(f"{published.repo_id}@0.1.0", tiny_gpt2, tokenizer, store=tmp_path / "store")
    assert loaded.kind == kind and loaded.attached and published.repo_id.startswith(f"team/{slug(kind)}-")
    assert np.array_equal(scores(learner), scores(loaded))


def test_every_public_export_resolves():
    for name in learners.__all__:
        assert getattr(learners, name) is not None, name
    for package in ("learners", "registry", "server"):
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{package}.{name} is exported but does not resolve"
