"""Hub habits (issue 22, item 4), each driven by unmodified huggingface_hub or the `hf` command line against a
real server on 127.0.0.1: short commit ids as revisions, explained refusals of the Hub routes the server does
not implement, stock offline calls without a revision after `learnerhub pull`, createdAt from the first
commit, and `learner.push_to_hub` sending assets/ and saying client errors in one line."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError
from model_helpers import make_tiny_gpt2
from registry_helpers import (  # noqa: F401 (fixtures)
    isolated_learnerhub_home,
    make_learner_folder,
    no_xet,
    served_hub,
)

import registry
from learners import load_learner
from cards.format.errors import LearnerFormatError, LearnerHubError
from registry.local.git import git
from server import create_app
from server.testing import running_server

TOKEN = "habits-token"
KJV = "local/igf-gpt2-kjv"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@pytest.fixture(scope="module")
def hub(tmp_path_factory, tokenizer):
    """kjv 1.0.0 and 1.1.0 (with plots) published locally, served on an ephemeral port."""
    with served_hub(tmp_path_factory.mktemp("habits"), tokenizer, tokens=[TOKEN], plot=True) as served:
        yield served


@pytest.fixture(autouse=True)
def _no_xet(no_xet):
    """Every test here talks to the server through huggingface_hub."""


def tag_commits(url: str) -> dict[str, str]:
    return {t.name: t.target_commit for t in HfApi(endpoint=url, token=False).list_repo_refs(KJV).tags}


def colliding_commits(prefix_length: int = 7) -> tuple[bytes, bytes]:
    """Two commit objects whose shas share their first `prefix_length` hex digits (a birthday search)."""
    seen: dict[str, bytes] = {}
    for i in range(10_000_000):
        body = (f"tree {EMPTY_TREE}\nauthor a <a@b> 0 +0000\ncommitter a <a@b> 0 +0000\n\ncollision {i}\n").encode()
        prefix = hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()[:prefix_length]
        if prefix in seen:
            return seen[prefix], body
        seen[prefix] = body
    raise AssertionError("no collision found")


def test_short_commit_ids_are_revisions(hub, tmp_path):
    url, full = hub["url"], tag_commits(hub["url"])["v1.0.0"]
    api = HfApi(endpoint=url, token=False)
    path = hf_hub_download(KJV, "learner.json", revision=full[:7], endpoint=url, cache_dir=tmp_path / "c", token=False)
    assert Path(path).read_bytes() == git(hub["store"] / "models" / KJV, "cat-file", "blob", f"{full}:learner.json")
    assert Path(snapshot_download(KJV, revision=full[:10], endpoint=url, cache_dir=tmp_path / "c",
                                  token=False)).name == full
    assert api.model_info(KJV, revision=full[:7]).sha == full
    assert "assets/perplexity.png" in api.list_repo_files(KJV, revision=full[:8])

    with pytest.raises(RevisionNotFoundError, match="not found"):   # names no commit
        hf_hub_download(KJV, "learner.json", revision="0000000", endpoint=url, cache_dir=tmp_path / "c", token=False)
    first, second = colliding_commits()
    repository = hub["store"] / "models" / KJV
    shas = [git(repository, "hash-object", "-w", "-t", "commit", "--stdin", input=body).decode().strip()
            for body in (first, second)]
    assert shas[0][:7] == shas[1][:7]
    with pytest.raises(RevisionNotFoundError) as refused:   # starts two commits: the Hub's 404, with why
        api.model_info(KJV, revision=shas[0][:7])
    assert "ambiguous" in refused.value.server_message and refused.value.response.status_code == 404
    assert api.model_info(KJV, revision=shas[0][:12]).sha == shas[0]   # more digits: one commit again


def explained(error: HfHubHTTPError) -> str:
    """The refusal's message, checked to be the same in the X-Error-Message header and the JSON body."""
    response = error.response
    assert 400 <= response.status_code < 500
    assert response.headers["X-Error-Message"] == response.json()["error"]
    return response.json()["error"]


def test_hub_routes_the_server_does_not_implement_are_explained(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    with pytest.raises(HfHubHTTPError) as squash:
        api.super_squash_history(KJV)
    assert "super_squash_history) is not implemented by a learnerhub server" in explained(squash.value)
    assert "not implemented by a learnerhub server" in str(squash.value)   # what the user sees
    with pytest.raises(HfHubHTTPError) as duplicate:
        api.duplicate_repo(KJV, "local/copy")
    assert "hf download" in explained(duplicate.value) and "hf upload" in explained(duplicate.value)

    env = {**os.environ, "HF_ENDPOINT": hub["url"], "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf-cli"),
           "HF_HUB_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    done = subprocess.run([str(Path(sys.executable).with_name("hf")), "repos", "duplicate", KJV, "local/copy"],
                          env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode != 0 and "not implemented by a learnerhub server" in done.stderr
    assert "Traceback" not in done.stderr

    for method, path, status, said in (("GET", "/api/nothing/here", 404, "is not a route of this learnerhub server"),
                                       ("GET", "/api/nothing", 404, "is not a route of this learnerhub server"),
                                       ("POST", f"/api/models/{KJV}/discussions", 404, "pull requests are not"),
                                       ("GET", "/api/datasets/a/b", 404, "model repositories only"),
                                       ("POST", f"/api/models/{KJV}", 405, "this route takes GET only")):
        response = httpx.request(method, hub["url"] + path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == status and said in response.json()["error"], (path, response.text)
        assert response.headers["X-Error-Message"] == response.json()["error"]


def test_stock_offline_calls_without_a_revision_after_pull(hub, tmp_path):
    """`learnerhub pull` of the latest version writes refs/main too, so HF_HUB_OFFLINE=1 calls without a
    revision resolve; a pull of an older version does not claim main."""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_XET": "1",
           "LEARNERHUB_HOME": str(tmp_path / "lh-home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)

    def run(*argv: str, offline: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *argv], env={**env, **({"HF_HUB_OFFLINE": "1"} if offline else {})},
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)

    stock = ("from huggingface_hub import hf_hub_download, snapshot_download; import sys; "
             f"print(hf_hub_download({KJV!r}, 'learner.json')); print(snapshot_download({KJV!r}))")
    pulled = run("-m", "learnerhub.cli", "pull", f"{KJV}@1.0.0", "--endpoint", hub["url"], "--no-lock")
    assert pulled.returncode == 0, pulled.stderr
    older = run("-c", stock, offline=True)
    assert older.returncode != 0 and "LocalEntryNotFoundError" in older.stderr, older.stderr   # main: 1.1.0

    pulled = run("-m", "learnerhub.cli", "pull", KJV, "--endpoint", hub["url"], "--no-lock")
    assert pulled.returncode == 0, pulled.stderr
    offline = run("-c", stock, offline=True)
    assert offline.returncode == 0, offline.stderr
    learner_file, snapshot = offline.stdout.split()
    main = tag_commits(hub["url"])["v1.1.0"]
    assert Path(snapshot).name == main and Path(learner_file).parent == Path(snapshot)
    assert json.loads(Path(learner_file).read_text())["corpus"]["name"] == "kjv"


def test_created_at_is_the_first_commits_date(tmp_path, tokenizer, monkeypatch):
    model = make_tiny_gpt2(tokenizer)
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2020-01-02T03:04:05Z")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2020-01-02T03:04:05Z")
    registry.publish(make_learner_folder(tmp_path / "a", model, tokenizer, seed=0), version="1.0.0",
                     store=tmp_path / "store")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    registry.publish(make_learner_folder(tmp_path / "b", model, tokenizer, seed=1), version="1.1.0",
                     store=tmp_path / "store")
    first = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with running_server(create_app(tmp_path / "store")) as url:
        api = HfApi(endpoint=url, token=False)
        info = api.model_info(KJV)
        assert info.created_at == first and info.last_modified > first
        assert api.model_info(KJV, revision="v1.0.0").created_at == first
        assert [m.created_at for m in api.list_models(author="local")] == [first]


def test_push_to_hub_sends_assets_and_says_client_errors_in_one_line(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    folder = make_learner_folder(tmp_path / "built", model, tokenizer, plot=True)
    learner = load_learner(folder, model, tokenizer)
    with running_server(create_app(tmp_path / "served", tokens=["t"])) as url:
        for token, said in ((None, "without a token"), ("", "without a token"), ("wrong", "answered 401")):
            with pytest.raises(LearnerHubError, match=said) as refused:
                learner.push_to_hub("acme", version="0.1.0", endpoint=url, token=token)
            assert "\n" not in str(refused.value)
        published = learner.push_to_hub("acme", version="0.1.0", endpoint=url, token="t")
        assert "assets/perplexity.png" in published.files
        api = HfApi(endpoint=url, token=False)
        assert "assets/perplexity.png" in api.list_repo_files("acme/igf-gpt2-kjv")
        plot = hf_hub_download("acme/igf-gpt2-kjv", "assets/perplexity.png", endpoint=url,
                               cache_dir=tmp_path / "c", token=False)
        assert Path(plot).read_bytes() == (folder / "assets" / "perplexity.png").read_bytes()

    (folder / "assets" / "leak.png").symlink_to("/etc/passwd")
    with pytest.raises(LearnerFormatError, match="leak.png is a symlink"):
        learner.push_to_hub(version="0.2.0", store=tmp_path / "store")
