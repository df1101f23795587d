"""The familiar entry points: `learner.push_to_hub(...)` and `load_learner("org/name@1.2", model, tokenizer)`,
into and out of the local store and a real server on 127.0.0.1."""

from __future__ import annotations

import pytest
from huggingface_hub import constants
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learners import load_learner
from learners.errors import BaseModelMismatchError
from learners.store_lookup import is_reference
from server import create_app
from server.testing import running_server

REPO = "local/igf-gpt2-kjv"


@pytest.fixture()
def learner(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    return load_learner(make_learner_folder(tmp_path / "built", model, tokenizer), model, tokenizer), model


def test_push_to_the_local_store_and_load_by_repository_id(learner, tmp_path, tokenizer):
    built, model = learner
    published = built.push_to_hub(version="1.0.0", store=tmp_path / "store")
    assert (published.repo_id, published.version) == (REPO, "1.0.0")
    built.push_to_hub("team", version="1.1.0", store=tmp_path / "store")
    loaded = load_learner(f"{REPO}@1.0", model, tokenizer, store=tmp_path / "store")
    assert loaded.attached and loaded.metadata.corpus.name == "kjv"
    assert load_learner("team/igf-gpt2-kjv", store=tmp_path / "store").metadata.kind == "igf"
    with pytest.raises(BaseModelMismatchError):   # checked against the model like any load
        load_learner(REPO, make_tiny_gpt2(tokenizer, seed=5), tokenizer, store=tmp_path / "store")
    with pytest.raises(registry.InvalidVersionError, match="named 'igf-gpt2-kjv'"):
        built.push_to_hub("team/another-name", version="2.0.0", store=tmp_path / "store")
    with pytest.raises(registry.VersionExistsError):
        built.push_to_hub(version="1.0.0", store=tmp_path / "store")


def test_push_to_an_endpoint_and_load_from_it(learner, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    built, model = learner
    with running_server(create_app(tmp_path / "served", tokens=["t"])) as url:
        built.push_to_hub("acme", version="0.1.0", endpoint=url, token="t")
        loaded = load_learner("acme/igf-gpt2-kjv@0.1.0", model, endpoint=url)
    assert loaded.attached and registry.list_learners(store=tmp_path / "served")[0].latest == "0.1.0"


def test_a_folder_is_not_a_reference(tmp_path):
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert is_reference("acme/igf@1.0") and is_reference("acme/igf")
    assert not is_reference(str(tmp_path / "org" / "name")) and not is_reference("runs/a/b")
