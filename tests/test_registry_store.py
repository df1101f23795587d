"""Publishing to a real local git store in a temporary folder: layout, immutability, index, CLI."""

from __future__ import annotations

import argparse
import json
import subprocess

import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.registry_commands import add_commands
from registry.errors import (
    InvalidVersionError,
    LearnerNotFoundError,
    RepositoryConflictError,
    VersionExistsError,
)
from registry.local.git import read_refs
from registry.staging import NotALearnerFolderError

REPO = "local/igf-gpt2-kjv"


@pytest.fixture()
def source(tmp_path, tiny_gpt2, tokenizer):
    return make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer)


@pytest.fixture()
def store(tmp_path):
    return tmp_path / "store"


def git_show(store, repo_id, revision):
    return subprocess.run(["git", f"--git-dir={store / 'models' / repo_id}", "show", revision],
                          capture_output=True, check=True).stdout


def test_publish_makes_a_hub_layout_git_repository(source, store):
    published = registry.publish(source, version="1.0.0", store=store)
    assert published.repo_id == REPO and published.is_latest
    repository = store / "models" / REPO
    refs = read_refs(repository)
    assert refs["refs/heads/main"] == refs["refs/tags/v1.0.0"] == published.commit
    listed = subprocess.run(["git", f"--git-dir={repository}", "ls-tree", "--name-only", "main"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert listed == ["README.md", "config.json", "learner.json", "learnerhub.manifest.json", "model.safetensors"]
    assert git_show(store, REPO, "v1.0.0:model.safetensors") == (source / "model.safetensors").read_bytes()
    manifest = json.loads(git_show(store, REPO, "main:learnerhub.manifest.json"))
    assert manifest["files"] == published.files and manifest["version"] == "1.0.0"


def test_versions_are_immutable_and_main_is_the_newest(source, store):
    first = registry.publish(source, version="1.0.0", store=store)
    second = registry.publish(source, version="1.1.0", store=store)
    older = registry.publish(source, version="0.9.0", store=store)
    with pytest.raises(VersionExistsError, match="1.0.0 already exists.*immutable"):
        registry.publish(source, version="1.0.0", store=store)
    refs = read_refs(store / "models" / REPO)
    assert refs["refs/tags/v1.0.0"] == first.commit  # untouched by the refused publish
    assert refs["refs/heads/main"] == second.commit and not older.is_latest
    assert refs["refs/tags/v0.9.0"] == older.commit


def test_bad_input_is_refused_before_anything_is_written(source, store, tmp_path):
    with pytest.raises(InvalidVersionError):
        registry.publish(source, version="1.0", store=store)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotALearnerFolderError, match="model.safetensors"):
        registry.publish(tmp_path / "empty", version="1.0.0", store=store)
    assert not (store / "models").exists() or not any((store / "models").iterdir())


def test_a_repository_holds_one_kind_base_model_and_corpus(source, store):
    registry.publish(source, version="1.0.0", store=store)
    learner_json = json.loads((source / "learner.json").read_text())
    learner_json["base_model"]["model_id"] = "other/gpt2"  # same repository name, another base model
    (source / "learner.json").write_text(json.dumps(learner_json))
    with pytest.raises(RepositoryConflictError, match="other/gpt2"):
        registry.publish(source, version="1.1.0", store=store)


def test_list_filters_and_the_index_follows_the_repositories(tmp_path, tiny_gpt2, tokenizer, store):
    for corpus, model_id in [("kjv", "tiny/gpt2"), ("pydocs", "tiny/gpt2"), ("kjv", "tiny/llama")]:
        folder = make_learner_folder(tmp_path / f"{corpus}-{model_id[5:]}", tiny_gpt2, tokenizer, corpus=corpus,
                                     model_id=model_id, dataset_id=f"org/{corpus}-dataset")
        registry.publish(folder, version="1.0.0", store=store)
    assert [s.repo_id for s in registry.list_learners(store=store, corpus="kjv")] == [REPO, "local/igf-llama-kjv"]
    assert [s.corpus for s in registry.list_learners(store=store, corpus="org/pydocs-dataset")] == ["pydocs"]
    assert len(registry.list_learners(store=store, corpus="k*", base_model="tiny/GPT2")) == 1
    assert registry.list_learners(store=store, kind="other") == []
    index = store / ".learnerhub" / "index.sqlite"
    index.unlink()  # missing: rebuilt from the repositories
    assert len(registry.list_learners(store=store)) == 3
    registry.publish(tmp_path / "kjv-gpt2", version="2.0.0", store=store)  # stale: refreshed
    assert registry.list_learners(store=store, corpus="kjv", base_model="tiny/gpt2")[0].latest == "2.0.0"
    subprocess.run(["git", f"--git-dir={store / 'models' / REPO}", "update-ref", "-d", "refs/tags/v2.0.0"],
                   check=True)  # a change made behind learnerhub's back is seen with refresh=True
    summary = registry.list_learners(store=store, corpus="kjv", base_model="tiny/gpt2", refresh=True)[0]
    assert summary.versions == "1.0.0"


def test_info_describes_a_version(source, store):
    first = registry.publish(source, version="1.0.0", store=store)
    registry.publish(source, version="1.1.0", store=store)
    described = registry.info(f"{REPO}@1.0.0", store=store)
    assert (described.version, described.commit) == ("1.0.0", first.commit)
    assert set(described.versions) == {"1.0.0", "1.1.0"} and described.learner["corpus"]["name"] == "kjv"
    assert registry.info(REPO, store=store).version == "1.1.0"
    with pytest.raises(LearnerNotFoundError, match="no learner 'local/nope'"):
        registry.info("local/nope", store=store)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="learnerhub")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_publish_pull_list_info(source, store, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli("publish", str(source), "--version", "1.0.0", "--store", str(store), "--json") == 0
    published = json.loads(capsys.readouterr().out)
    assert run_cli("list", "--store", str(store), "--json") == 0
    assert json.loads(capsys.readouterr().out)["versions"] == ["1.0.0"]
    assert run_cli("pull", "kjv", "--base-model", "tiny/gpt2", "--store", str(store), "--json") == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["commit"] == published["commit"] and (tmp_path / "learnerhub.lock").exists()
    assert pulled["folder"].startswith(str(tmp_path / "home" / "cache"))
    assert run_cli("info", f"{REPO}@1.0.0", "--store", str(store)) == 0
    assert published["commit"] in capsys.readouterr().out
    assert run_cli("list", "--store", str(store), "--corpus", "nothing") == 0
    assert "no learners match" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # --store and --endpoint exclude each other
        run_cli("list", "--store", str(store), "--endpoint", "http://127.0.0.1:1")
