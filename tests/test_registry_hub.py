"""The Hub store without a network: how it is chosen and configured, and what offline mode answers.

End-to-end tests against a Hub-compatible server belong to the server issue (`learnerhub serve`).
"""

from __future__ import annotations

import pytest
from huggingface_hub import constants
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.errors import LearnerNotFoundError, StoreError
from registry.hub.store import HubStore
from registry.local.store import LocalStore


def test_the_endpoint_picks_the_hub_store(tmp_path, monkeypatch):
    hub = registry.open_store(endpoint="http://127.0.0.1:8080/", token="hf_test")
    assert isinstance(hub, HubStore) and hub.api.endpoint == hub.location == "http://127.0.0.1:8080"
    assert hub.api.token == "hf_test"
    assert isinstance(registry.open_store("https://hub.example.org"), HubStore)
    assert isinstance(registry.open_store(tmp_path / "store"), LocalStore)
    monkeypatch.setenv("LEARNERHUB_STORE", "http://127.0.0.1:9")
    assert registry.open_store().location == "http://127.0.0.1:9"
    monkeypatch.setenv("LEARNERHUB_STORE", str(tmp_path / "elsewhere"))
    assert registry.open_store().location == str(tmp_path / "elsewhere")
    monkeypatch.delenv("LEARNERHUB_STORE")
    assert registry.open_store().location == str(tmp_path / "home" / "store")


def test_listing_filters_on_the_tags_cards_carry():
    query = HubStore("http://127.0.0.1:9").list_query(kind="igf", org="local")
    assert query == {"filter": ["learnerhub", "learner:igf"], "author": "local", "cardData": True}


def test_offline_with_an_empty_cache_says_so(tmp_path, monkeypatch, tiny_gpt2, tokenizer):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(LearnerNotFoundError, match="HF_HUB_OFFLINE=1 .* holds no learner"):
        registry.download("kjv", base_model="smollm2", endpoint="http://127.0.0.1:9", cache_dir=tmp_path / "hub")
    with pytest.raises(LearnerNotFoundError, match="not in the Hub cache"):
        HubStore("http://127.0.0.1:9", cache_dir=tmp_path / "hub").versions("local/igf-x-kjv")
    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer)
    with pytest.raises(StoreError, match="HF_HUB_OFFLINE"):
        registry.publish(source, version="1.0.0", endpoint="http://127.0.0.1:9")
