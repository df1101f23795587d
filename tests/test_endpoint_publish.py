"""Publishing through an endpoint follows the same protocol as the local store: racing publishers all
succeed or get VersionExistsError (412s of racing writers are retried), `main` only moves forward, and a
publisher killed between its tag and `main` is repaired by the next publish. Real server, real client."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from model_helpers import make_tiny_gpt2
from huggingface_hub import CommitOperationAdd, HfApi, constants, hf_hub_download
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

from registry.errors import VersionExistsError
from registry.store_choice import open_store
from server import create_app
from server.testing import running_server

WRITE = "write-token"
REPO = "local/igf-gpt2-kjv"


@pytest.fixture(autouse=True)
def no_xet(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture()
def endpoint(tmp_path):
    with running_server(create_app(tmp_path / "served", tokens=[WRITE])) as url:
        yield url


@pytest.fixture()
def learner(tmp_path, tokenizer):
    return make_learner_folder(tmp_path / "learner", make_tiny_gpt2(tokenizer), tokenizer)


def store(url: str, tmp_path: Path, name: str):
    return open_store(endpoint=url, token=WRITE, cache_dir=tmp_path / "caches" / name)


def main_version(url: str, tmp_path: Path) -> str:
    path = hf_hub_download(REPO, "learnerhub.manifest.json", revision="main", endpoint=url, token=WRITE,
                           cache_dir=tmp_path / "check", force_download=True)
    return json.loads(Path(path).read_text())["version"]


def test_racing_endpoint_publishers_all_succeed_or_get_version_exists(endpoint, tmp_path, learner):
    store(endpoint, tmp_path, "first").publish(learner, version="1.0.0", org="local")
    versions = [f"1.{minor}.0" for minor in (1, 2, 3, 4, 5, 6) for _ in range(2)]
    outcomes: dict[int, object] = {}
    barrier = threading.Barrier(len(versions))

    def publish(number: int, version: str) -> None:
        publisher = store(endpoint, tmp_path, f"p{number}")
        barrier.wait()
        try:
            outcomes[number] = publisher.publish(learner, version=version, org="local").version
        except VersionExistsError:
            outcomes[number] = "exists"
        except Exception as error:  # noqa: BLE001 - the test reports every other outcome as a failure
            outcomes[number] = error

    threads = [threading.Thread(target=publish, args=(n, v)) for n, v in enumerate(versions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for number, version in enumerate(versions):
        assert outcomes[number] in (version, "exists"), (version, str(outcomes[number])[:900])
    for version in sorted(set(versions)):
        wins = [n for n, v in enumerate(versions) if v == version and outcomes[n] == version]
        assert len(wins) == 1, (version, outcomes)
    assert main_version(endpoint, tmp_path) == "1.6.0"
    tags = HfApi(endpoint=endpoint, token=WRITE).list_repo_refs(REPO).tags
    assert sorted(t.name for t in tags) == [f"v1.{m}.0" for m in range(7)]


def test_publishing_an_older_version_leaves_main_on_the_newest(endpoint, tmp_path, learner):
    hub = store(endpoint, tmp_path, "one")
    hub.publish(learner, version="2.0.0", org="local")
    older = hub.publish(learner, version="1.5.0", org="local")
    assert not older.is_latest and main_version(endpoint, tmp_path) == "2.0.0"
    api = HfApi(endpoint=endpoint, token=WRITE)
    assert [b.name for b in api.list_repo_refs(REPO).branches] == ["main"]   # the publish branch is gone
    path = hf_hub_download(REPO, "learnerhub.manifest.json", revision="v1.5.0", endpoint=endpoint, token=WRITE,
                           cache_dir=tmp_path / "c15")
    assert json.loads(Path(path).read_text())["version"] == "1.5.0"


def test_a_publisher_killed_between_its_tag_and_main_is_repaired(endpoint, tmp_path, learner):
    """Steps 1-2 done by hand (what a publisher killed before step 3 leaves): the next publish repairs main."""
    hub = store(endpoint, tmp_path, "one")
    hub.publish(learner, version="1.0.0", org="local")
    api = HfApi(endpoint=endpoint, token=WRITE)
    api.create_branch(REPO, branch="learnerhub-publish-killed", revision="main")
    manifest = json.loads(Path(hf_hub_download(REPO, "learnerhub.manifest.json", revision="main", endpoint=endpoint,
                                               token=WRITE, cache_dir=tmp_path / "m")).read_text())
    manifest["version"] = "1.1.0"
    commit = api.create_commit(REPO, [CommitOperationAdd("learnerhub.manifest.json", json.dumps(manifest).encode())],
                               commit_message="killed publisher", revision="learnerhub-publish-killed").oid
    api.create_tag(REPO, tag="v1.1.0", revision=commit)
    assert main_version(endpoint, tmp_path) == "1.0.0"
    with pytest.raises(VersionExistsError):
        hub.publish(learner, version="1.1.0", org="local")
    assert main_version(endpoint, tmp_path) == "1.1.0"


def test_publish_branches_left_by_killed_publishers_are_removed(endpoint, tmp_path, learner, tokenizer):
    store = open_store(endpoint=endpoint, token=WRITE)
    store.publish(learner, version="1.0.0", org="local")
    api = HfApi(endpoint=endpoint, token=WRITE)
    tagged = {t.name: t.target_commit for t in api.list_repo_refs(REPO).tags}["v1.0.0"]
    api.create_branch(REPO, branch="learnerhub-publish-1000-aaaaaaaaaaaa", revision="main")      # stale
    api.create_branch(REPO, branch="learnerhub-publish-feedfacecafe", revision=tagged)           # tagged head
    live = f"learnerhub-publish-{int(__import__('time').time())}-bbbbbbbbbbbb"
    api.create_branch(REPO, branch=live, revision="main")
    api.upload_file(path_or_fileobj=b"in flight", path_in_repo="x.txt", repo_id=REPO, revision=live)
    store.publish(make_learner_folder(tmp_path / "second", make_tiny_gpt2(tokenizer), tokenizer, seed=3),
                  version="1.1.0", org="local")
    branches = {b.name for b in api.list_repo_refs(REPO).branches}
    assert branches == {"main", live}   # a live publisher's branch (fresh, untagged) is left alone
