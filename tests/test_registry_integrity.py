"""A pull checks that what it fetched is what was asked for, not only that the bytes match a manifest."""

from __future__ import annotations

import json
import subprocess

import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.errors import IntegrityError


def git(repository, *args, input=None):
    return subprocess.run(["git", f"--git-dir={repository}", *args], input=input, capture_output=True,
                          check=True).stdout.decode().strip()


@pytest.fixture()
def store(tmp_path, tiny_gpt2, tokenizer):
    root = tmp_path / "store"
    registry.publish(make_learner_folder(tmp_path / "a", tiny_gpt2, tokenizer), version="1.0.0", store=root)
    registry.publish(make_learner_folder(tmp_path / "b", tiny_gpt2, tokenizer, seed=1), version="1.1.0", store=root)
    registry.publish(make_learner_folder(tmp_path / "c", tiny_gpt2, tokenizer, corpus="pydocs"), version="1.0.0",
                     store=root)
    return root


def pull(store, tmp_path, corpus="kjv", version="1.0.0"):
    return registry.pull(corpus, base_model="tiny/gpt2", version=version, store=store, lock=tmp_path / "lock")


def move_tag(repository, tag, commit):
    git(repository, "update-ref", f"refs/tags/{tag}", commit)


def test_a_tag_moved_to_another_versions_commit_is_refused(store, tmp_path):
    repository = store / "models" / "local" / "igf-gpt2-kjv"
    move_tag(repository, "v1.0.0", git(repository, "rev-parse", "v1.1.0"))
    with pytest.raises(IntegrityError, match="manifest describes local/igf-gpt2-kjv@1.1.0"):
        pull(store, tmp_path)


def test_a_tag_moved_to_another_repositorys_commit_is_refused(store, tmp_path):
    kjv, pydocs = (store / "models" / "local" / name for name in ("igf-gpt2-kjv", "igf-gpt2-pydocs"))
    foreign = git(pydocs, "rev-parse", "v1.0.0")
    subprocess.run(f"git --git-dir={pydocs} pack-objects --stdout --revs | git --git-dir={kjv} unpack-objects -q",
                   shell=True, input=f"{foreign}\n".encode(), check=True)
    move_tag(kjv, "v1.0.0", foreign)
    with pytest.raises(IntegrityError, match="describes local/igf-gpt2-pydocs@1.0.0"):
        pull(store, tmp_path)


def test_an_empty_manifest_is_refused(store, tmp_path):
    repository = store / "models" / "local" / "igf-gpt2-kjv"
    tree = subprocess.run(["git", f"--git-dir={repository}", "ls-tree", "v1.0.0"], capture_output=True, text=True,
                          check=True).stdout
    empty = json.dumps({"format": 1, "repo_id": "local/igf-gpt2-kjv", "version": "1.0.0", "files": {}}).encode()
    blob = git(repository, "hash-object", "-w", "--stdin", input=empty)
    lines = [line if not line.endswith("\tlearnerhub.manifest.json")
             else f"100644 blob {blob}\tlearnerhub.manifest.json" for line in tree.splitlines()]
    new_tree = git(repository, "mktree", input=("\n".join(lines) + "\n").encode())
    commit = subprocess.run(["git", f"--git-dir={repository}", "commit-tree", new_tree, "-m", "empty manifest"],
                            capture_output=True, text=True, check=True,
                            env={"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x", "GIT_COMMITTER_NAME": "x",
                                 "GIT_COMMITTER_EMAIL": "x@x", "PATH": "/usr/bin:/bin"}).stdout.strip()
    move_tag(repository, "v1.0.0", commit)
    with pytest.raises(IntegrityError, match="manifest does not list"):
        pull(store, tmp_path)


def test_an_honest_store_still_pulls(store, tmp_path):
    learner, resolution = pull(store, tmp_path, version="1.1.0")
    assert resolution.version == "1.1.0" and learner.metadata.corpus.name == "kjv"
