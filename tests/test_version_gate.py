"""One gate for what may become a version (registry.version_gate): the same bad version is refused the same way
(the same registry error, the same message) by local publish, endpoint publish (huggingface_hub against a real
server on 127.0.0.1) and the server's tag route, whose answer names the error so a client can raise it again."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import HfHubHTTPError
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.errors import IntegrityError, InvalidVersionError, VersionDeletedError
from registry.hub.publish import gate_refusal
from registry.version_gate import check_version_content, folder_files
from server import create_app
from server.testing import running_server

TOKEN = "gate-token"
KJV = "local/igf-gpt2-kjv"


@pytest.fixture()
def stores(tmp_path, tokenizer, monkeypatch):
    """A local store and a served one, each with kjv 1.0.0 and 1.1.0 published and 1.1.0 deleted."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = make_tiny_gpt2(tokenizer)
    folders = [make_learner_folder(tmp_path / f"kjv-{seed}", model, tokenizer, seed=seed) for seed in range(3)]
    for store in (tmp_path / "local", tmp_path / "served"):
        for folder, version in zip(folders, ("1.0.0", "1.1.0")):
            registry.publish(folder, version=version, store=store)
        registry.delete_version(f"{KJV}@1.1.0", reason="licence withdrawn", store=store)
    with running_server(create_app(tmp_path / "served", tokens=[TOKEN])) as url:
        yield {"local": tmp_path / "local", "url": url, "new": folders[2]}


def refusals(stores, version: str, tag: str) -> tuple[Exception, Exception, HfHubHTTPError]:
    """What local publish, endpoint publish and the tag route (on 1.0.0's commit) answer for `version`/`tag`."""
    with pytest.raises(registry.RegistryError) as local:
        registry.publish(stores["new"], version=version, store=stores["local"])
    with pytest.raises(registry.RegistryError) as endpoint:
        registry.publish(stores["new"], version=version, endpoint=stores["url"], token=TOKEN)
    with pytest.raises(HfHubHTTPError) as route:
        HfApi(endpoint=stores["url"], token=TOKEN).create_tag(KJV, tag=tag, revision="v1.0.0")
    return local.value, endpoint.value, route.value


def test_a_deleted_number_is_refused_the_same_way_everywhere(stores):
    local, endpoint, route = refusals(stores, "1.1.0", "v1.1.0")
    assert type(local) is type(endpoint) is VersionDeletedError
    assert str(local) == str(endpoint) == route.response.json()["error"]
    assert "was deleted; version numbers are never reused" in str(local)
    assert route.response.status_code == 409 and route.response.headers["X-Learnerhub-Error"] == "VersionDeletedError"
    rebuilt = gate_refusal(route)   # what an endpoint publisher raises when the server is the one refusing
    assert type(rebuilt) is VersionDeletedError and str(rebuilt) == str(local)


def test_a_version_name_that_is_not_semantic_is_refused_the_same_way_everywhere(stores):
    local, endpoint, route = refusals(stores, "1.0", "v1.0")
    assert type(local) is type(endpoint) is InvalidVersionError and type(gate_refusal(route)) is InvalidVersionError
    assert route.response.status_code == 422


def test_a_commit_whose_learner_json_is_malformed_is_refused_by_the_gate_with_the_validators_words(stores, tmp_path):
    """A complete version (manifest and hashes right) whose learner.json fails the one validator: the tag route and
    the gate local publishing runs give the same IntegrityError, naming the field; nothing is tagged."""
    folder = tmp_path / "bad"
    shutil.copytree(registry.download("kjv", base_model="tiny/gpt2", store=stores["local"]).folder, folder)
    learner = json.loads((folder / "learner.json").read_text())
    (folder / "learner.json").write_text(json.dumps({**learner, "corpus": {"name": 7}}))
    manifest = json.loads((folder / "learnerhub.manifest.json").read_text())
    manifest["version"] = "2.0.0"
    manifest["files"]["learner.json"] = hashlib.sha256((folder / "learner.json").read_bytes()).hexdigest()
    (folder / "learnerhub.manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError) as local:
        check_version_content(folder_files(folder), repo_id=KJV, version="2.0.0", published=None)
    assert "learner.json is malformed: field corpus.name must be a string, not a number" in str(local.value)

    api = HfApi(endpoint=stores["url"], token=TOKEN)
    api.create_branch(KJV, branch="bad")
    api.upload_folder(repo_id=KJV, folder_path=folder, revision="bad")
    with pytest.raises(HfHubHTTPError) as route:
        api.create_tag(KJV, tag="v2.0.0", revision="bad")
    assert route.value.response.status_code == 422 and route.value.response.json()["error"] == str(local.value)
    assert type(gate_refusal(route.value)) is IntegrityError
    assert "v2.0.0" not in {t.name for t in api.list_repo_refs(KJV).tags}
