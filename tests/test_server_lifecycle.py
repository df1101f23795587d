"""The version lifecycle and organisation-scoped tokens on `learnerhub serve`, driven by unmodified huggingface_hub,
the `hf` command line and learnerhub's endpoint store against a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import time
from functools import partial
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, constants, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)
from test_server_hub_parity import hf

import registry
from registry.local.git import git
from server import create_app
from server.core.auth import TokenRegistry
from server.testing import running_server

TOKEN, ACME, BETA = "lifecycle-token", "acme-token", "beta-token"
KJV = "local/igf-gpt2-kjv"


@pytest.fixture()
def hub(tmp_path, tokenizer, monkeypatch):
    """kjv 1.0.0 and 1.1.0 published locally, served with an unlimited token and two organisation tokens."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = make_tiny_gpt2(tokenizer)
    for seed, version in enumerate(("1.0.0", "1.1.0")):
        registry.publish(make_learner_folder(tmp_path / f"kjv-{seed}", model, tokenizer, seed=seed), version=version,
                         store=tmp_path / "store")
    tokens = TokenRegistry.configure(tokens=[TOKEN], org_tokens={"acme": [ACME], "beta": [BETA]}, environ={})
    with running_server(create_app(tmp_path / "store", tokens=tokens)) as url:
        yield {"url": url, "store": tmp_path / "store", "root": tmp_path}


def sha(hub, revision: str) -> str:
    return git(hub["store"] / "models" / KJV, "rev-parse", revision).decode().strip()


def test_yank_alias_and_delete_through_the_endpoint(hub):
    url, where = hub["url"], {"endpoint": hub["url"], "token": TOKEN}
    registry.yank(f"{KJV}@1.1.0", reason="evaluated on its own training data", **where)
    # every reader agrees on latest: the endpoint, the store folder, the server's main and page
    assert registry.list_learners(**where)[0].latest == "1.0.0" == registry.list_learners(store=hub["store"])[0].latest
    assert sha(hub, "main") == sha(hub, "v1.0.0")
    assert registry.download("kjv", base_model="tiny/gpt2", **where).version == "1.0.0"
    with pytest.warns(registry.RegistryWarning, match="yanked"):
        assert registry.download("kjv", base_model="tiny/gpt2", version="1.1.0", **where).version == "1.1.0"
    assert "is\n  <b>yanked</b>: evaluated on its own training data" in httpx.get(
        f"{url}/learners/{KJV}", params={"version": "1.1.0"}).text
    described = httpx.get(f"{url}/api/learners/{KJV}", params={"version": "1.1.0"}).json()
    assert described["yanked"] == "evaluated on its own training data"
    assert [v["yanked"] for v in described["versions"]] == ["evaluated on its own training data", None]
    assert httpx.get(f"{url}/api/learners/{KJV}/card", params={"version": "1.1.0"}).text.startswith("> **Yanked**")
    assert registry.info(f"{KJV}@1.1.0", **where).yanked == "evaluated on its own training data"

    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.put(f"{url}/api/learners/{KJV}/aliases/production", json={"version": "1.0.0"}).status_code == 401
    moved = httpx.put(f"{url}/api/learners/{KJV}/aliases/production", json={"version": "1.0.0"}, headers=auth)
    assert moved.status_code == 200 and moved.json()["aliases"] == {"production": "1.0.0"}
    assert registry.download("kjv", base_model="tiny/gpt2", version="production", **where).version == "1.0.0"
    refused = httpx.put(f"{url}/api/learners/{KJV}/aliases/staging", json={"version": "1.1.0"}, headers=auth)
    assert refused.status_code == 409 and "yanked" in refused.json()["error"]
    unyanked = httpx.post(f"{url}/api/learners/{KJV}/versions/1.1.0/unyank", json={}, headers=auth)
    assert unyanked.status_code == 200 and sha(hub, "main") == sha(hub, "v1.1.0")

    registry.delete_version(f"{KJV}@1.1.0", reason="licence withdrawn", **where)
    assert "v1.1.0" not in {t.name for t in HfApi(endpoint=url).list_repo_refs(KJV).tags}
    assert sha(hub, "main") == sha(hub, "v1.0.0")
    history = httpx.get(f"{url}/api/learners/{KJV}/lifecycle").json()["history"]
    assert [line.split(" ")[1] for line in history] == ["yank", "alias", "unyank", "delete"]
    assert history[2].split(" by ")[1].startswith("token:")      # the server names the token by its hash only


def test_version_tags_are_checked_and_deleted_only_through_the_log(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    api.upload_file(path_or_fileobj=b"not a safetensors file", path_in_repo="model.safetensors", repo_id=KJV)
    with pytest.raises(HfHubHTTPError) as bogus:
        api.create_tag(KJV, tag="v2.0.0")
    assert bogus.value.response.status_code == 422 and "its manifest describes local/igf-gpt2-kjv@1.1.0" in str(
        bogus.value)
    manifest = json.loads(Path(hf_hub_download(KJV, "learnerhub.manifest.json", endpoint=hub["url"],
                                               cache_dir=tmp_path / "m")).read_text())
    api.upload_file(path_or_fileobj=json.dumps({**manifest, "version": "2.0.0"}).encode(),
                    path_in_repo="learnerhub.manifest.json", repo_id=KJV)
    with pytest.raises(HfHubHTTPError) as forged:
        api.create_tag(KJV, tag="v2.0.0")
    assert forged.value.response.status_code == 422 and "model.safetensors does not have the sha256" in str(
        forged.value)
    assert registry.download("kjv", base_model="tiny/gpt2", endpoint=hub["url"]).version == "1.1.0"

    with pytest.raises(HfHubHTTPError) as immutable:
        api.delete_tag(KJV, tag="v1.0.0")
    assert immutable.value.response.status_code == 403 and "learnerhub delete" in str(immutable.value)
    assert hf(hub, tmp_path, "repos", "tag", "delete", KJV, "v1.0.0", "--yes", token=TOKEN).returncode != 0
    assert "v1.0.0" in {t.name for t in api.list_repo_refs(KJV).tags}

    registry.yank(f"{KJV}@1.0.0", reason="first", endpoint=hub["url"], token=TOKEN)
    log = json.loads(Path(hf_hub_download(KJV, "lifecycle.json", revision="lifecycle", endpoint=hub["url"],
                                          cache_dir=tmp_path / "c")).read_text())
    with pytest.raises(HfHubHTTPError) as rewrite:   # the log is append-only
        api.create_commit(KJV, [CommitOperationAdd("lifecycle.json", json.dumps({**log, "events": []}).encode())],
                          commit_message="forget", revision="lifecycle")
    assert rewrite.value.response.status_code == 409 and "only append" in str(rewrite.value)


def test_a_broken_version_tagged_behind_the_servers_back_is_passed_over(hub):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    api.create_branch(KJV, branch="broken")
    commit = api.upload_file(path_or_fileobj=b"garbage", path_in_repo="model.safetensors", repo_id=KJV,
                             revision="broken").oid
    git(hub["store"] / "models" / KJV, "update-ref", "refs/tags/v3.0.0", commit)   # a route that skipped the check
    with pytest.warns(registry.RegistryWarning, match=r"@3\.0\.0 is broken and was passed over"):
        pulled = registry.download("kjv", base_model="tiny/gpt2", endpoint=hub["url"], token=TOKEN)
    assert pulled.version == "1.1.0"
    with pytest.raises(registry.IntegrityError):
        registry.download("kjv", base_model="tiny/gpt2", version="3.0.0", endpoint=hub["url"], token=TOKEN)


def test_the_server_stamps_who_and_when_on_events_sent_through_the_hub_protocol(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    api.create_branch(KJV, branch="lifecycle")
    forged = {"format": 1, "events": [{"action": "yank", "version": "1.1.0", "reason": "bad data",
                                       "by": "admin@corp", "at": "1999-01-01T00:00:00Z"}]}
    api.create_commit(KJV, [CommitOperationAdd("lifecycle.json", json.dumps(forged).encode())],
                      commit_message="yank", revision="lifecycle")
    registry.set_alias(KJV, "production", "1.0.0", by="ceo@corp", endpoint=hub["url"], token=TOKEN)   # the client
    stored = json.loads(git(hub["store"] / "models" / KJV, "cat-file", "blob", "lifecycle:lifecycle.json"))
    token_name = f"token:{hashlib.sha256(TOKEN.encode()).hexdigest()[:12]}"
    assert [(e["by"], e["at"][:4]) for e in stored["events"]] == [(token_name, str(time.gmtime().tm_year))] * 2
    history = httpx.get(f"{hub['url']}/api/learners/{KJV}/lifecycle").json()["history"]
    assert not any("admin@corp" in line or "ceo@corp" in line or "1999" in line for line in history)


def test_tokens_scoped_to_organisations(hub, tmp_path):
    url = hub["url"]
    acme, beta = HfApi(endpoint=url, token=ACME), HfApi(endpoint=url, token=BETA)
    acme.create_repo("acme/notes")
    acme.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="acme/notes")
    for write in (lambda: acme.create_repo("beta/notes"), lambda: acme.create_tag(KJV, tag="reviewed"),
                  lambda: acme.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=KJV),
                  lambda: acme.delete_repo(KJV), lambda: acme.move_repo("acme/notes", "beta/notes")):
        with pytest.raises(HfHubHTTPError) as refused:
            write()
        assert refused.value.response.status_code == 403 and "acme" in str(refused.value)
    assert httpx.post(f"{url}/api/learners/{KJV}/versions/1.0.0/yank", json={"reason": "x"},
                      headers={"Authorization": f"Bearer {ACME}"}).status_code == 403
    assert [o["name"] for o in acme.whoami()["orgs"]] == ["acme"]
    made_private = hf(hub, tmp_path, "repos", "settings", "acme/notes", "--private", token=ACME)
    assert made_private.returncode == 0 and acme.model_info("acme/notes").private is True, made_private.stderr
    other_org = hf(hub, tmp_path, "repos", "settings", KJV, "--private", token=ACME)
    assert other_org.returncode != 0 and HfApi(endpoint=url).model_info(KJV).private is False

    beta.create_repo("beta/secret", private=True)
    beta.upload_file(path_or_fileobj=b"hidden", path_in_repo="s.txt", repo_id="beta/secret")
    HfApi(endpoint=url, token=TOKEN).update_repo_settings(KJV, private=True)   # a private learner of org local
    for token in (ACME, None):
        other = HfApi(endpoint=url, token=token or False)
        for repo_id, path in (("beta/secret", "s.txt"), (KJV, "learner.json")):
            for read in (partial(other.model_info, repo_id), partial(other.list_repo_files, repo_id),
                         partial(other.list_repo_refs, repo_id), partial(other.list_repo_commits, repo_id),
                         partial(hf_hub_download, repo_id, path, endpoint=url, token=token or False,
                                 cache_dir=tmp_path / "o")):
                with pytest.raises(RepositoryNotFoundError):
                    read()
            assert repo_id not in {m.id for m in other.list_models()}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for route in (f"/learners/{KJV}", f"/api/learners/{KJV}", f"/api/learners/{KJV}/lifecycle",
                      f"/{KJV}/resolve/main/learner.json", f"/api/models/{KJV}/tree/main"):
            assert httpx.get(url + route, headers=headers).status_code == 404, (route, token)
        assert KJV not in {i["repo_id"] for i in httpx.get(f"{url}/api/learners", headers=headers).json()["items"]}
    assert beta.model_info("beta/secret").private is True
    assert "beta/secret" in {m.id for m in beta.list_models()} and KJV not in {m.id for m in beta.list_models()}
    assert {r.id for r in acme.list_user_repos()} == {"acme/notes"}
    assert KJV in {i["repo_id"] for i in httpx.get(f"{url}/api/learners",
                                                   headers={"Authorization": f"Bearer {TOKEN}"}).json()["items"]}


def test_no_hub_route_bypasses_the_log_or_the_version_checks(hub, tmp_path, tokenizer):
    url, api = hub["url"], HfApi(endpoint=hub["url"], token=TOKEN)
    forged = json.dumps({"format": 1, "events": [{"action": "delete", "version": "1.0.0", "at": "2020-01-01T00:00:00Z",
                                                  "by": "admin@corp"}]}).encode()
    api.create_branch(KJV, branch="evil")
    api.upload_file(path_or_fileobj=forged, path_in_repo="lifecycle.json", repo_id=KJV, revision="evil")
    with pytest.raises(HfHubHTTPError) as planted:   # a log arrives event by event, never as a whole branch
        api.create_branch(KJV, branch="lifecycle", revision="evil")
    assert planted.value.response.status_code == 422
    registry.yank(f"{KJV}@1.1.0", reason="bad split", endpoint=url, token=TOKEN)
    with pytest.raises(HfHubHTTPError) as dropped:
        api.delete_branch(KJV, branch="lifecycle")
    assert dropped.value.response.status_code == 403
    stale = api.list_repo_commits(KJV, revision="lifecycle")[-1].commit_id   # the branch's first commit
    with pytest.raises(HfHubHTTPError) as raced:   # applied only on the head it was checked against
        api.create_commit(KJV, [CommitOperationAdd("lifecycle.json", forged)], commit_message="x",
                          revision="lifecycle", parent_commit=stale)
    assert raced.value.response.status_code == 412
    assert registry.lifecycle(KJV, endpoint=url).yanked == {"1.1.0": "bad split"}

    registry.unyank(f"{KJV}@1.1.0", endpoint=url, token=TOKEN)
    registry.delete_version(f"{KJV}@1.1.0", reason="withdrawn", endpoint=url, token=TOKEN)
    other = make_learner_folder(tmp_path / "other", make_tiny_gpt2(tokenizer), tokenizer, seed=5)
    registry.publish(other, version="1.1.0", store=tmp_path / "elsewhere")   # the same number, new content
    api.create_branch(KJV, branch="again")
    api.upload_folder(repo_id=KJV, revision="again",
                      folder_path=registry.download("kjv", base_model="tiny/gpt2", store=tmp_path / "elsewhere").folder)
    with pytest.raises(HfHubHTTPError) as reused:
        api.create_tag(KJV, tag="v1.1.0", revision="again")
    assert reused.value.response.status_code == 409 and "never reused" in str(reused.value)

    registry.publish(make_learner_folder(tmp_path / "psalms", make_tiny_gpt2(tokenizer), tokenizer, corpus="psalms"),
                     version="9.0.0", store=tmp_path / "p")
    pulled = registry.download("psalms", base_model="tiny/gpt2", store=tmp_path / "p").folder
    manifest = json.loads((pulled / "learnerhub.manifest.json").read_text())
    api.create_branch(KJV, branch="psalms")
    api.upload_folder(repo_id=KJV, folder_path=pulled, revision="psalms", ignore_patterns=["learnerhub.manifest.json"])
    api.upload_file(path_or_fileobj=json.dumps({**manifest, "repo_id": KJV}).encode(),
                    path_in_repo="learnerhub.manifest.json", repo_id=KJV, revision="psalms")
    with pytest.raises(HfHubHTTPError) as foreign:   # a complete learner, but not this repository's learner
        api.create_tag(KJV, tag="v9.0.0", revision="psalms")
    assert foreign.value.response.status_code == 422 and "psalms" in str(foreign.value)

    api.create_branch(KJV, branch="deep")
    api.upload_file(path_or_fileobj=b"[" * 200_000, path_in_repo="learnerhub.manifest.json", repo_id=KJV,
                    revision="deep")
    with pytest.raises(HfHubHTTPError) as deep:
        api.create_tag(KJV, tag="v9.9.9", revision="deep")
    assert deep.value.response.status_code == 422
    with pytest.raises(HfHubHTTPError) as cased:   # organisation names are exact: ACME is not acme
        HfApi(endpoint=url, token=ACME).create_repo("ACME/x")
    assert cased.value.response.status_code == 403
