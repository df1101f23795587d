"""Hub parity: history, paths-info, branches, tag deletion, repository management, visibility, sorting and
repository URLs, driven by unmodified huggingface_hub and the `hf` command line against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import httpx
import pytest
from model_helpers import make_tiny_gpt2
from huggingface_hub import CommitOperationCopy, HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
from registry_helpers import (  # noqa: F401 (fixtures)
    isolated_learnerhub_home,
    make_learner_folder,
    no_xet,
    served_hub,
)

import registry
from registry.local.git import git
from server import create_app
from server.testing import running_server

TOKEN = "parity-token"
READ_TOKEN = "parity-read-token"
KJV = "local/igf-gpt2-kjv"
PYDOCS = "local/igf-gpt2-pydocs"


@pytest.fixture(scope="module")
def hub(tmp_path_factory, tokenizer):
    """kjv (1.0.0, 1.1.0) and pydocs (1.0.0) published locally, served on an ephemeral port."""
    from server.core.auth import TokenRegistry

    tokens = TokenRegistry.configure(tokens=[TOKEN], read_tokens=[READ_TOKEN], environ={})
    with served_hub(tmp_path_factory.mktemp("parity"), tokenizer, tokens=tokens, other_corpora=("pydocs",)) as served:
        yield served


@pytest.fixture(autouse=True)
def _no_xet(no_xet):
    """Every test here talks to the server through huggingface_hub."""


def sha(store: Path, repo_id: str, revision: str) -> str:
    return git(store / "models" / repo_id, "rev-parse", revision).decode().strip()


def hf(hub, tmp_path, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_ENDPOINT": hub["url"], "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf-cli"),
           "HF_HUB_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    env.pop("HF_TOKEN", None)
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run([str(Path(sys.executable).with_name("hf")), *args], env=env, capture_output=True,
                          text=True, timeout=90)


def test_commit_history_paths_info_and_tree_last_commit(hub):
    api = HfApi(endpoint=hub["url"], token=False)
    commits = api.list_repo_commits(KJV)
    assert [c.commit_id for c in commits] == [sha(hub["store"], KJV, "v1.1.0"), sha(hub["store"], KJV, "v1.0.0")]
    assert commits[0].title.startswith("Publish") and commits[0].title.endswith("v1.1.0")
    assert commits[0].authors == ["learnerhub"] and commits[0].created_at.tzinfo is not None
    assert [c.commit_id for c in api.list_repo_commits(KJV, revision="v1.0.0")] == [sha(hub["store"], KJV, "v1.0.0")]
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_commits(KJV, revision="nope")
    with pytest.raises(RepositoryNotFoundError):
        api.list_repo_commits("local/absent")

    found = api.get_paths_info(KJV, ["learner.json", "README.md", "missing.txt"], revision="v1.0.0", expand=True)
    by_path = {f.path: f for f in found}
    assert set(by_path) == {"learner.json", "README.md"}
    assert by_path["learner.json"].blob_id == sha(hub["store"], KJV, "v1.0.0:learner.json")
    assert by_path["learner.json"].size == len(git(hub["store"] / "models" / KJV, "cat-file", "blob",
                                                   "v1.0.0:learner.json"))
    assert by_path["learner.json"].last_commit.oid == sha(hub["store"], KJV, "v1.0.0")

    tree = list(api.list_repo_tree(KJV, expand=True))
    assert tree and all(entry.last_commit is not None for entry in tree)
    assert {e.last_commit.oid for e in tree if e.path == "learner.json"} == {sha(hub["store"], KJV, "v1.1.0")}
    assert all(e.last_commit is None for e in api.list_repo_tree(KJV))


def test_commit_operation_copy_and_auth_check(hub):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    api.create_repo("team/copies")
    api.upload_file(path_or_fileobj=b"original bytes", path_in_repo="a.txt", repo_id="team/copies")
    api.create_commit("team/copies", [CommitOperationCopy("a.txt", "b/copy.txt")], commit_message="Copy")
    assert git(hub["store"] / "models" / "team/copies", "cat-file", "blob", "main:b/copy.txt") == b"original bytes"
    assert [c.title for c in api.list_repo_commits("team/copies")] == ["Copy", "Upload a.txt with huggingface_hub"]

    HfApi(endpoint=hub["url"], token=False).auth_check(KJV)
    api.auth_check("team/copies", write=True)
    with pytest.raises(HfHubHTTPError) as anonymous:
        HfApi(endpoint=hub["url"], token=False).auth_check(KJV, write=True)
    assert anonymous.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as read_only:
        HfApi(endpoint=hub["url"], token=READ_TOKEN).auth_check(KJV, write=True)
    assert read_only.value.response.status_code == 403
    with pytest.raises(RepositoryNotFoundError):
        api.auth_check("team/absent")


def test_branches_commit_download_and_delete(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    api.create_repo("team/branchy")
    api.upload_file(path_or_fileobj=b"on main", path_in_repo="f.txt", repo_id="team/branchy")
    api.create_branch("team/branchy", branch="dev")
    api.create_branch("team/branchy", branch="dev", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as exists:
        api.create_branch("team/branchy", branch="dev")
    assert exists.value.response.status_code == 409
    api.upload_file(path_or_fileobj=b"on dev", path_in_repo="f.txt", repo_id="team/branchy", revision="dev")
    assert Path(hf_hub_download("team/branchy", "f.txt", revision="dev", endpoint=hub["url"], token=False,
                                cache_dir=tmp_path / "c")).read_bytes() == b"on dev"
    assert Path(hf_hub_download("team/branchy", "f.txt", endpoint=hub["url"], token=False,
                                cache_dir=tmp_path / "c")).read_bytes() == b"on main"
    first = api.list_repo_commits("team/branchy")[-1].commit_id
    api.create_branch("team/branchy", branch="from-first", revision=first)
    assert sha(hub["store"], "team/branchy", "from-first") == first
    with pytest.raises(HfHubHTTPError) as shadow:
        api.create_branch("team/branchy", branch="v9.0.0")
    assert shadow.value.response.status_code == 422

    made = hf(hub, tmp_path, "repos", "branch", "create", "team/branchy", "cli-branch")
    assert made.returncode == 0, made.stderr
    assert {b.name for b in api.list_repo_refs("team/branchy").branches} == {"main", "dev", "from-first",
                                                                              "cli-branch"}
    api.delete_branch("team/branchy", branch="dev")
    assert {b.name for b in api.list_repo_refs("team/branchy").branches} == {"main", "from-first", "cli-branch"}
    with pytest.raises(RevisionNotFoundError):
        api.delete_branch("team/branchy", branch="dev")
    with pytest.raises(HfHubHTTPError) as main:
        api.delete_branch("team/branchy", branch="main")
    assert main.value.response.status_code == 403


def test_tag_deletion_with_a_write_token(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    api.create_tag(KJV, tag="stable", revision="v1.0.0")
    api.create_tag(KJV, tag="candidate", revision="v1.0.0")
    with pytest.raises(HfHubHTTPError) as anonymous:
        HfApi(endpoint=hub["url"], token=False).delete_tag(KJV, tag="stable")
    assert anonymous.value.response.status_code == 401
    api.delete_tag(KJV, tag="stable")
    deleted = hf(hub, tmp_path, "repos", "tag", "delete", KJV, "candidate", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert {t.name for t in api.list_repo_refs(KJV).tags} == {"v1.0.0", "v1.1.0"}
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(KJV, tag="stable")
    with pytest.raises(HfHubHTTPError) as version:
        api.delete_tag(KJV, tag="v1.0.0")
    assert version.value.response.status_code == 403 and "immutable" in str(version.value)
    assert {t.name for t in api.list_repo_refs(KJV).tags} == {"v1.0.0", "v1.1.0"}


def test_repository_delete_move_and_listing_of_ones_repositories(hub, tmp_path):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    for name in ("team/old", "team/doomed", "team/cli-doomed"):
        api.create_repo(name)
        api.upload_file(path_or_fileobj=name.encode(), path_in_repo="name.txt", repo_id=name)
    api.move_repo("team/old", "other/new")
    assert not (hub["store"] / "models" / "team/old").exists()
    assert git(hub["store"] / "models" / "other/new", "cat-file", "blob", "main:name.txt") == b"team/old"
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("team/old")
    with pytest.raises(HfHubHTTPError) as versions:
        api.move_repo(KJV, "other/kjv")
    assert versions.value.response.status_code == 409 and (hub["store"] / "models" / KJV).is_dir()

    api.delete_repo("team/doomed")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("team/doomed")
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo("team/doomed")
    api.delete_repo("team/doomed", missing_ok=True)
    with pytest.raises(HfHubHTTPError) as anonymous:
        HfApi(endpoint=hub["url"], token=False).delete_repo("team/cli-doomed")
    assert anonymous.value.response.status_code == 401

    rows = {r.id: r for r in api.list_user_repos()}
    assert {KJV, PYDOCS, "other/new", "team/cli-doomed"} <= set(rows) and "team/doomed" not in rows
    assert rows[KJV].visibility == "public" and rows[KJV].storage > 0 and rows[KJV].type == "model"
    assert {r.id for r in api.list_user_repos(namespace="other")} == {"other/new"}
    listed = hf(hub, tmp_path, "repos", "ls", "--limit", "0")
    assert listed.returncode == 0 and KJV in listed.stdout and "team/cli-doomed" in listed.stdout, listed.stderr
    removed = hf(hub, tmp_path, "repos", "delete", "team/cli-doomed", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not (hub["store"] / "models" / "team/cli-doomed").exists()


def test_a_private_repository_is_invisible_without_a_token(hub, tmp_path):
    url, writer = hub["url"], HfApi(endpoint=hub["url"], token=TOKEN)
    anonymous = HfApi(endpoint=url, token=False)
    writer.create_repo("team/secret", private=True)
    writer.upload_file(path_or_fileobj=b"hidden", path_in_repo="s.txt", repo_id="team/secret")
    writer.update_repo_settings(PYDOCS, private=True)
    assert writer.model_info("team/secret").private is True and writer.model_info(PYDOCS).private is True
    assert anonymous.model_info(KJV).private is False

    for repo_id, path in (("team/secret", "s.txt"), (PYDOCS, "learner.json")):
        for read in (partial(anonymous.model_info, repo_id), partial(anonymous.list_repo_files, repo_id),
                     partial(anonymous.list_repo_refs, repo_id), partial(anonymous.list_repo_commits, repo_id),
                     partial(anonymous.get_paths_info, repo_id, [path]), partial(anonymous.auth_check, repo_id),
                     partial(hf_hub_download, repo_id, path, endpoint=url, token=False, cache_dir=tmp_path / "a")):
            with pytest.raises(RepositoryNotFoundError):
                read()
        assert repo_id not in {m.id for m in anonymous.list_models()}
        assert repo_id in {m.id for m in HfApi(endpoint=url, token=READ_TOKEN).list_models()}
        with pytest.raises(RepositoryNotFoundError):
            HfApi(endpoint=url, token="wrong-token").model_info(repo_id)
    for route in (f"/learners/{PYDOCS}", f"/api/learners/{PYDOCS}", f"/api/learners/{PYDOCS}/card", f"/{PYDOCS}",
                  f"/{PYDOCS}/resolve/main/learner.json", f"/api/models/{PYDOCS}/tree/main"):
        assert httpx.get(url + route).status_code == 404, route
        assert httpx.get(url + route, headers={"Authorization": f"Bearer {READ_TOKEN}"},
                         follow_redirects=True).status_code == 200, route
    listing = httpx.get(f"{url}/api/learners").json()
    assert KJV in {i["repo_id"] for i in listing["items"]} and PYDOCS not in {i["repo_id"] for i in listing["items"]}
    assert "pydocs" not in {c["name"] for c in httpx.get(f"{url}/api/corpora").json()}
    assert PYDOCS not in httpx.get(f"{url}/").text and PYDOCS not in httpx.get(
        f"{url}/api/leaderboard", params={"corpus": "pydocs", "base_model": "tiny/gpt2"}).text
    authed = {"Authorization": f"Bearer {READ_TOKEN}"}
    assert PYDOCS in {i["repo_id"] for i in httpx.get(f"{url}/api/learners", headers=authed).json()["items"]}
    assert PYDOCS in httpx.get(f"{url}/", headers=authed).text

    writer.update_repo_settings(PYDOCS, private=False)
    assert anonymous.model_info(PYDOCS).private is False
    assert PYDOCS in {i["repo_id"] for i in httpx.get(f"{url}/api/learners").json()["items"]}
    with pytest.raises(HfHubHTTPError) as gated:
        writer.update_repo_settings(PYDOCS, gated="auto")
    assert gated.value.response.status_code == 422


def test_model_listing_sorts(hub, monkeypatch):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    for name, date in (("sorted/b-newest", "2030-01-03T00:00:00Z"), ("sorted/a-oldest", "2030-01-01T00:00:00Z"),
                       ("sorted/c-middle", "2030-01-02T00:00:00Z")):
        monkeypatch.setenv("GIT_COMMITTER_DATE", date)
        api.create_repo(name)
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=name)
    newest_first = ["sorted/b-newest", "sorted/c-middle", "sorted/a-oldest"]
    assert [m.id for m in api.list_models(author="sorted", sort="last_modified")] == newest_first
    assert [m.id for m in api.list_models(author="sorted")] == sorted(newest_first)
    ascending = httpx.get(f"{hub['url']}/api/models", params={"author": "sorted", "sort": "lastModified",
                                                            "direction": "1"}).json()
    assert [m["id"] for m in ascending] == newest_first[::-1]
    refused = httpx.get(f"{hub['url']}/api/models", params={"sort": "colour"})
    assert refused.status_code == 422 and refused.headers["X-Error-Code"] == "InvalidRequest"


def test_repository_urls_lead_to_the_page(hub):
    api = HfApi(endpoint=hub["url"], token=TOKEN)
    learner = httpx.get(f"{hub['url']}/{KJV}", follow_redirects=True)
    assert learner.status_code == 200 and learner.url.path == f"/learners/{KJV}" and "kjv" in learner.text
    url = api.create_repo("team/plain")
    plain = httpx.get(str(url), follow_redirects=True)
    assert plain.status_code == 200 and plain.json()["id"] == "team/plain"
    commit = api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="team/plain")
    shown = httpx.get(commit.commit_url, follow_redirects=True)
    assert shown.status_code == 200 and shown.json()[0]["id"] == commit.oid
    blob = httpx.get(f"{hub['url']}/team/plain/blob/main/x.txt", follow_redirects=True)
    assert blob.status_code == 200 and blob.content == b"x"
    assert httpx.get(f"{hub['url']}/team/absent").headers["X-Error-Code"] == "RepoNotFound"


def test_a_prerelease_does_not_move_main(hub, tmp_path, tokenizer):
    store = tmp_path / "store"
    model = make_tiny_gpt2(tokenizer)
    registry.publish(make_learner_folder(tmp_path / "a", model, tokenizer, corpus="rc", seed=0), version="1.0.0",
                     store=store)
    rc = registry.publish(make_learner_folder(tmp_path / "b", model, tokenizer, corpus="rc", seed=1),
                          version="1.1.0-rc1", store=store)
    repo_id = "local/igf-gpt2-rc"
    assert rc.version == "1.1.0rc1" and not rc.is_latest
    assert sha(store, repo_id, "main") == sha(store, repo_id, "v1.0.0")
    assert registry.list_learners(store=store)[0].latest == "1.0.0"
    with running_server(create_app(store, tokens=[TOKEN])) as url:
        assert HfApi(endpoint=url, token=False).model_info(repo_id).sha == sha(store, repo_id, "v1.0.0")
        described = httpx.get(f"{url}/api/learners/{repo_id}").json()
        assert described["version"] == "1.0.0" and described["latest"] == "1.0.0"
        through_hub = registry.publish(make_learner_folder(tmp_path / "h", model, tokenizer, corpus="rc", seed=3),
                                       version="1.2.0rc2", endpoint=url, token=TOKEN)
        assert not through_hub.is_latest and sha(store, repo_id, "main") == sha(store, repo_id, "v1.0.0")
        assert sha(store, repo_id, "v1.2.0rc2") == through_hub.commit
        assert [b.name for b in HfApi(endpoint=url, token=False).list_repo_refs(repo_id).branches] == ["main"]
        patch = registry.publish(make_learner_folder(tmp_path / "p", model, tokenizer, corpus="rc", seed=4),
                                 version="1.0.1", endpoint=url, token=TOKEN)
        # Through the Hub protocol main advances by a commit of the newest version's files (no ref moves)
        assert patch.is_latest and sha(store, repo_id, "main^{tree}") == sha(store, repo_id, "v1.0.1^{tree}")
    assert registry.download("rc", base_model="tiny/gpt2", store=store, cache_dir=tmp_path / "cache").version == "1.0.1"
    final = registry.publish(make_learner_folder(tmp_path / "c", model, tokenizer, corpus="rc", seed=2),
                             version="1.1.0", store=store)
    assert final.is_latest and sha(store, repo_id, "main") == final.commit
