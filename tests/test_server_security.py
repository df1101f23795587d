"""Tokens, private reads, validation and limits: each error provoked once, in the Hub's error shape,
and nothing written when a request is refused."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.local.git import read_refs
from server import create_app
from server.core.auth import TokenRegistry
from server.testing import running_server

WRITE, READ = "write-token", "read-only-token"
KJV = "local/igf-gpt2-kjv"


@pytest.fixture(scope="module")
def secured(tmp_path_factory, tokenizer):
    """Write token from a file of hashes, read token from the environment mapping; 4 KiB body limit."""
    root = tmp_path_factory.mktemp("secured")
    registry.publish(make_learner_folder(root / "kjv", make_tiny_gpt2(tokenizer), tokenizer), version="1.0.0",
                     store=root / "store")
    tokens_file = root / "tokens.txt"
    tokens_file.write_text(f"# learnerhub tokens\n{hashlib.sha256(WRITE.encode()).hexdigest()} write\n")
    tokens = TokenRegistry.configure(tokens_file=tokens_file, environ={"LEARNERHUB_READ_TOKENS": READ})
    with running_server(create_app(root / "store", tokens=tokens, max_body_bytes=4096)) as url, \
            httpx.Client(base_url=url) as client:
        yield {"url": url, "client": client, "store": root / "store", "root": root}


@pytest.fixture(autouse=True)
def no_xet(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.delenv("HF_TOKEN", raising=False)


def refs_of(secured, repo_id: str = KJV) -> dict[str, str]:
    return read_refs(secured["store"] / "models" / repo_id)


def commit_body(*lines: dict) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def header(summary: str = "test") -> dict:
    return {"key": "header", "value": {"summary": summary, "description": ""}}


def add(path: str, content: bytes = b"x") -> dict:
    return {"key": "file", "value": {"path": path, "encoding": "base64", "content": base64.b64encode(content).decode()}}


def test_tokens_are_held_hashed_and_checked(secured, tmp_path):
    tokens = TokenRegistry.configure(tokens=["plain"], environ={})
    assert "plain" not in json.dumps(tokens.hashes) and tokens.scope_of("plain") == "write"
    assert tokens.scope_of("plai") is None
    (tmp_path / "bad.txt").write_text("not-a-hash\n")
    with pytest.raises(ValueError, match="sha256 hex digest"):
        TokenRegistry.configure(tokens_file=tmp_path / "bad.txt", environ={})

    client = secured["client"]
    before = refs_of(secured)
    missing = client.post(f"/api/models/{KJV}/tag/main", json={"tag": "v9.0.0"})
    assert missing.status_code == 401 and "Bearer" in missing.json()["error"]
    wrong = client.post(f"/api/models/{KJV}/tag/main", json={"tag": "v9.0.0"},
                        headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    with pytest.raises(HfHubHTTPError) as refused:
        HfApi(endpoint=secured["url"], token=READ).create_tag(KJV, tag="v9.0.0")
    assert refused.value.response.status_code == 403 and "read-only" in str(refused.value)
    HfApi(endpoint=secured["url"], token=WRITE).create_tag(KJV, tag="reviewed")
    assert set(refs_of(secured)) - set(before) == {"refs/tags/reviewed"}


def test_not_found_errors_map_to_the_clients_exceptions(secured, tmp_path):
    api = HfApi(endpoint=secured["url"], token=False)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("local/missing")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(KJV, revision="v7.7.7")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(KJV, "absent.txt", endpoint=secured["url"], cache_dir=tmp_path / "c", token=False)


def test_conflicts_409_and_stale_parent_412(secured):
    api = HfApi(endpoint=secured["url"], token=WRITE)
    with pytest.raises(HfHubHTTPError) as existing_tag:
        api.create_tag(KJV, tag="v1.0.0", revision="main")
    assert existing_tag.value.response.status_code == 409
    again = secured["client"].post("/api/repos/create", json={"name": "igf-gpt2-kjv", "organization": "local"},
                                   headers={"Authorization": f"Bearer {WRITE}"})
    assert again.status_code == 409 and again.json()["url"].endswith(KJV)
    main = refs_of(secured)["refs/heads/main"]
    api.create_commit(KJV, [CommitOperationAdd("notes.txt", b"one")], commit_message="moves main")
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(KJV, [CommitOperationAdd("notes.txt", b"two")], commit_message="stale", parent_commit=main)
    assert stale.value.response.status_code == 412


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", ".git/config", "a//b", "sub/../../x"])
def test_bad_paths_are_refused_and_nothing_is_written(secured, path):
    client, before = secured["client"], refs_of(secured)
    answer = client.post(f"/api/models/{KJV}/commit/main", content=commit_body(header(), add("ok.txt"), add(path)),
                         headers={"Authorization": f"Bearer {WRITE}", "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 422 and "Invalid file path" in answer.json()["error"]
    assert refs_of(secured) == before and not (secured["root"] / "outside.txt").exists()


def test_invalid_requests_are_422_in_the_hubs_shape(secured):
    client, auth = secured["client"], {"Authorization": f"Bearer {WRITE}"}
    for response in (client.post("/api/repos/create", json={"name": "../../evil", "organization": "x"}, headers=auth),
                     client.post(f"/api/models/{KJV}/tag/main", json={"tag": "bad tag"}, headers=auth),
                     client.post(f"/api/models/{KJV}/commit/main", content=b"{not json", headers=auth),
                     client.get("/api/learners", params={"per_page": 0})):
        assert response.status_code == 422 and response.json()["error"] and response.headers["X-Error-Message"]
    assert not (secured["store"].parent / "evil").exists()


def test_a_failing_commit_changes_nothing(secured):
    api = HfApi(endpoint=secured["url"], token=WRITE)
    before = refs_of(secured)
    with pytest.raises(EntryNotFoundError):
        api.create_commit(KJV, [CommitOperationAdd("new.txt", b"new"), CommitOperationDelete("never-there.txt")],
                          commit_message="half")
    assert refs_of(secured) == before and "new.txt" not in api.list_repo_files(KJV)


def test_request_size_limit(secured):
    big = commit_body(header(), add("big.bin", b"\0" * 8192))
    answer = secured["client"].post(f"/api/models/{KJV}/commit/main", content=big,
                                    headers={"Authorization": f"Bearer {WRITE}"})
    assert answer.status_code == 413 and "at most 4096 bytes" in answer.json()["error"]

    def chunks():
        yield big[:3000]
        yield big[3000:]

    streamed = secured["client"].post(f"/api/models/{KJV}/commit/main", content=chunks(),
                                      headers={"Authorization": f"Bearer {WRITE}"})
    assert streamed.status_code == 413


def test_private_reads_need_a_token(tmp_path):
    with running_server(create_app(tmp_path / "store", tokens=TokenRegistry.configure(
            tokens=[WRITE], read_tokens=[READ], private_reads=True, environ={}))) as url:
        assert httpx.get(f"{url}/api/learners").status_code == 401
        assert httpx.get(f"{url}/api/models").status_code == 401
        assert httpx.get(f"{url}/api/learners", headers={"Authorization": f"Bearer {READ}"}).status_code == 200
        HfApi(endpoint=url, token=WRITE).create_repo("local/private-one")
        with pytest.raises(HfHubHTTPError, match="reads are private") as refused:
            HfApi(endpoint=url, token=False).model_info("local/private-one")
        assert refused.value.response.status_code == 401
        assert HfApi(endpoint=url, token=READ).model_info("local/private-one").private is True
