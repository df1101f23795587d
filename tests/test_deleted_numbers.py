"""A deleted version's number is never published again, even by a publisher racing the delete: the tag is
created in one transaction with a check of the lifecycle log's head. Real server, unmodified huggingface_hub;
the race is forced by running the delete at the exact point between the server's checks and its write."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import HfHubHTTPError
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
import server.hub.commits
from registry.local.git import git
from server import create_app
from server.testing import running_server

TOKEN = "race-token"
KJV = "local/igf-gpt2-kjv"


@pytest.fixture()
def hub(tmp_path, tokenizer, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = make_tiny_gpt2(tokenizer)
    for seed, version in enumerate(("1.0.0", "1.1.0", "1.2.0")):
        registry.publish(make_learner_folder(tmp_path / f"kjv-{seed}", model, tokenizer, seed=seed), version=version,
                         store=tmp_path / "store")
    with running_server(create_app(tmp_path / "store", tokens=[TOKEN])) as url:
        yield {"url": url, "store": tmp_path / "store"}


def test_a_tag_racing_a_delete_of_its_number_is_refused(hub, monkeypatch):
    repository = hub["store"] / "models" / KJV
    commit = git(repository, "rev-parse", "v1.1.0").decode().strip()
    def delete_right_after_the_check(store, repo_id, tag, target):
        # The gate (registry.version_gate.check_new_tag) would refuse 1.1.0 as existing; here it has passed on a
        # state before the delete, and the racer deletes now: the store's writer alone must refuse the tag.
        registry.delete_version(f"{KJV}@1.1.0", reason="licence withdrawn", store=hub["store"])   # the racer

    monkeypatch.setattr(server.hub.commits, "check_new_tag", delete_right_after_the_check)
    with pytest.raises(HfHubHTTPError) as refused:
        HfApi(endpoint=hub["url"], token=TOKEN).create_tag(KJV, tag="v1.1.0", revision=commit)
    assert refused.value.response.status_code == 409 and "was deleted" in str(refused.value)
    assert "v1.1.0" not in {t.name for t in HfApi(endpoint=hub["url"]).list_repo_refs(KJV).tags}
    assert registry.lifecycle(KJV, store=hub["store"]).deleted.keys() == {"1.1.0"}
