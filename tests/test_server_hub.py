"""The Hub-compatible API, driven by unmodified huggingface_hub (HfApi, hf_hub_download, snapshot_download,
the `hf` command line) and by the registry's Hub store, against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from registry_helpers import (  # noqa: F401 (fixtures)
    isolated_learnerhub_home,
    make_learner_folder,
    no_xet,
    served_hub,
)

import registry
from registry.local.git import git

TOKEN = "hub-test-token"
KJV = "local/igf-gpt2-kjv"


@pytest.fixture(scope="module")
def hub(tmp_path_factory, tokenizer):
    """A store with a kjv learner (1.0.0, 1.1.0, with plots) published locally, served on an ephemeral port."""
    with served_hub(tmp_path_factory.mktemp("hub"), tokenizer, tokens=[TOKEN], plot=True) as served:
        yield served


@pytest.fixture(autouse=True)
def _no_xet(no_xet):
    """Every test here talks to the server through huggingface_hub."""


def git_file(store: Path, repo_id: str, revision: str, path: str) -> bytes:
    return git(store / "models" / repo_id, "cat-file", "blob", f"{revision}:{path}")


def test_the_client_reads_what_the_local_store_published(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=False)
    refs = api.list_repo_refs(KJV)
    tags = {t.name: t.target_commit for t in refs.tags}
    assert set(tags) == {"v1.0.0", "v1.1.0"} and [b.name for b in refs.branches] == ["main"]
    assert refs.branches[0].target_commit == tags["v1.1.0"]

    info = api.model_info(KJV)
    assert info.sha == tags["v1.1.0"] and info.card_data.base_model == "tiny/gpt2"
    assert {"library:learnerhub", "corpus:kjv", "base_model:tiny/gpt2"} <= set(info.tags)
    assert not any(tag.startswith("dataset:") for tag in info.tags)   # kjv is a local corpus, no Hub dataset
    assert "learnerhub.manifest.json" in {s.rfilename for s in info.siblings}
    assert api.model_info(KJV, revision="v1.0.0").sha == tags["v1.0.0"]
    assert set(api.list_repo_files(KJV, revision="v1.0.0")) == {
        "README.md", "assets/perplexity.png", "config.json", "learner.json", "learnerhub.manifest.json",
        "model.safetensors"}

    for filters in (["library:learnerhub"], ["corpus:kjv", "base_model:tiny/gpt2"], ["learnerhub", "learner:igf"]):
        assert [m.id for m in api.list_models(filter=filters)] == [KJV]
    assert [m.id for m in api.list_models(search="gpt2-kjv", author="local")] == [KJV]
    assert list(api.list_models(filter="corpus:pydocs")) == [] and list(api.list_models(author="nobody")) == []

    for revision in ("v1.0.0", "main", tags["v1.0.0"]):
        path = hf_hub_download(KJV, "learner.json", revision=revision, endpoint=hub["url"],
                               cache_dir=tmp_path / "cache", token=False)
        assert Path(path).read_bytes() == git_file(hub["store"], KJV, revision, "learner.json")
    metadata = get_hf_file_metadata(hf_hub_url(KJV, "model.safetensors", revision="v1.0.0", endpoint=hub["url"]),
                                    token=False)
    assert metadata.commit_hash == tags["v1.0.0"] and metadata.size == len(
        git_file(hub["store"], KJV, "v1.0.0", "model.safetensors"))
    assert metadata.etag == git(hub["store"] / "models" / KJV, "rev-parse", "v1.0.0:model.safetensors").decode().strip()
    folder = Path(snapshot_download(KJV, revision="v1.0.0", endpoint=hub["url"], cache_dir=tmp_path / "cache",
                                    token=False))
    manifest = json.loads((folder / "learnerhub.manifest.json").read_text())
    assert manifest["version"] == "1.0.0" and (folder / "assets" / "perplexity.png").is_file()


def test_create_repo_upload_commit_and_tag(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    url = api.create_repo("team/notes")
    assert url.repo_id == "team/notes" and api.create_repo("team/notes", exist_ok=True).repo_id == "team/notes"
    upload = tmp_path / "upload"
    (upload / "docs").mkdir(parents=True)
    (upload / "docs" / "a.txt").write_text("first")
    (upload / "b.bin").write_bytes(bytes(range(256)) * 40)
    first = api.upload_folder(repo_id="team/notes", folder_path=upload, commit_message="Add notes")
    assert sorted(api.list_repo_files("team/notes")) == ["b.bin", "docs/a.txt"]
    second = api.create_commit("team/notes", [CommitOperationAdd("docs/a.txt", b"second"),
                                              CommitOperationAdd("c/d/e.txt", b"deep"),
                                              CommitOperationDelete("b.bin")],
                               commit_message="Rewrite", parent_commit=first.oid)
    assert sorted(api.list_repo_files("team/notes")) == ["c/d/e.txt", "docs/a.txt"]
    with pytest.raises(HfHubHTTPError) as not_a_learner:   # a version tag needs a complete learner version
        api.create_tag("team/notes", tag="v0.1.0", revision=first.oid)
    assert not_a_learner.value.response.status_code == 422 and "learnerhub.manifest.json" in str(not_a_learner.value)
    api.create_tag("team/notes", tag="first-draft", revision=first.oid)
    refs = api.list_repo_refs("team/notes")
    assert {t.name: t.target_commit for t in refs.tags} == {"first-draft": first.oid}
    assert refs.branches[0].target_commit == second.oid
    assert api.model_info("team/notes", revision="first-draft").sha == first.oid
    old = hf_hub_download("team/notes", "docs/a.txt", revision="first-draft", endpoint=hub["url"],
                          cache_dir=tmp_path / "cache")
    new = hf_hub_download("team/notes", "docs/a.txt", endpoint=hub["url"], cache_dir=tmp_path / "cache")
    assert Path(old).read_text() == "first" and Path(new).read_text() == "second"
    commits = git(hub["store"] / "models" / "team/notes", "log", "--format=%s", "main").decode().split("\n")
    assert commits[:2] == ["Rewrite", "Add notes"]


def test_registry_hub_store_round_trip_with_the_local_store(hub, tmp_path, tokenizer):
    """Published through the endpoint -> pulled from the folder, and the other way round."""
    model = hub["model"]
    folder = make_learner_folder(tmp_path / "pydocs", model, tokenizer, corpus="pydocs", seed=5, plot=True)
    published = registry.publish(folder, version="1.0.0", endpoint=hub["url"], token=TOKEN)
    assert published.repo_id == "local/igf-gpt2-pydocs"
    with pytest.raises(registry.VersionExistsError):
        registry.publish(folder, version="1.0.0", endpoint=hub["url"], token=TOKEN)

    local = registry.download("pydocs", base_model="tiny/gpt2", store=hub["store"], cache_dir=tmp_path / "c1",
                              lock=None)
    assert (local.version, local.commit) == ("1.0.0", published.commit)
    assert [s.repo_id for s in registry.list_learners(corpus="pydocs", store=hub["store"])] == [published.repo_id]

    registry.publish(make_learner_folder(tmp_path / "pydocs2", model, tokenizer, corpus="pydocs", seed=6),
                     version="1.1.0", store=hub["store"])
    remote = registry.pull("pydocs", base_model="tiny/gpt2", endpoint=hub["url"], cache_dir=tmp_path / "c2",
                           lock=None, model=model, tokenizer=tokenizer)
    assert remote.resolution.version == "1.1.0" and remote.learner.metadata.corpus.name == "pydocs"
    pinned = registry.download("pydocs", base_model="tiny/gpt2", version="1.0.0", endpoint=hub["url"],
                               cache_dir=tmp_path / "c2", lock=None)
    assert pinned.commit == published.commit and (pinned.folder / "assets" / "perplexity.png").is_file()


def test_hf_command_line_downloads_and_uploads(hub, tmp_path):
    hf = Path(sys.executable).with_name("hf")
    env = {**os.environ, "HF_ENDPOINT": hub["url"], "HF_TOKEN": TOKEN, "HF_HUB_DISABLE_XET": "1",
           "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    downloaded = subprocess.run([str(hf), "download", KJV, "learner.json", "--revision", "v1.0.0", "--local-dir",
                                 str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=60)
    assert downloaded.returncode == 0, downloaded.stderr
    assert (tmp_path / "out" / "learner.json").read_bytes() == git_file(hub["store"], KJV, "v1.0.0", "learner.json")

    (tmp_path / "cli-upload").mkdir()
    (tmp_path / "cli-upload" / "notes.md").write_text("uploaded by hf")
    uploaded = subprocess.run([str(hf), "upload", "cli/uploads", str(tmp_path / "cli-upload"), ".",
                               "--commit-message", "From the hf CLI"], env=env, capture_output=True, text=True,
                              timeout=60)
    assert uploaded.returncode == 0, uploaded.stderr
    assert git_file(hub["store"], "cli/uploads", "main", "notes.md") == b"uploaded by hf"


SHADOW_TAGS = ["v01.0.0", "v1.0.00", "v1.00.0", "vv1.0.0", "V1.0.0", "v1.0", "v1.0.0.0", "v1.0.0+evil", "v1.0.0-0"]


@pytest.mark.parametrize("tag", SHADOW_TAGS)
def test_shadow_version_tags_are_refused_by_the_server(hub, tag):
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=hub["url"], token=TOKEN)
    with pytest.raises(HfHubHTTPError) as refused:
        api.create_tag("local/igf-gpt2-kjv", tag=tag, revision="v1.0.0")
    assert refused.value.response.status_code == 422 and "canonical" in refused.value.response.text


def test_a_shadow_tag_written_into_the_store_cannot_redefine_a_version(hub, tmp_path):
    """Even written with git behind the server's back, `v01.0.0` on 1.1.0's commit is no version 1.0.0."""
    repository = hub["store"] / "models" / "local" / "igf-gpt2-kjv"
    newer = git(repository, "rev-parse", "refs/tags/v1.1.0").decode().strip()
    git(repository, "update-ref", "refs/tags/v01.0.0", newer)
    try:
        _, resolution = registry.pull("kjv", base_model="tiny/gpt2", version="1.0.0", store=hub["store"],
                                      lock=tmp_path / "learnerhub.lock")
        assert resolution.commit == git(repository, "rev-parse", "refs/tags/v1.0.0").decode().strip() != newer
    finally:
        git(repository, "update-ref", "-d", "refs/tags/v01.0.0")
