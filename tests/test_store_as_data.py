"""A store repository is data, never code: whoever can write a shared store cannot run code as the users who
publish into it or pull from it, cannot empty a version with `.gitattributes`, and cannot swap a file by
rewriting its object in place. Real git repositories, a real server on 127.0.0.1, unmodified huggingface_hub."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zlib
from pathlib import Path

import pytest
from huggingface_hub import HfApi, constants
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.errors import BrokenVersionError
from registry.local.store import LocalStore
from server import create_app
from server.testing import running_server

REPO = "local/igf-gpt2-kjv"
TOKEN = "data-token"
GIT_ENV = {"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x", "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@x",
           "PATH": "/usr/bin:/bin"}


def git(repository: Path, *args: str, input: bytes | None = None) -> str:
    """Plain git, as anyone with write access to the store's folder could run it."""
    return subprocess.run(["git", f"--git-dir={repository}", *args], input=input, capture_output=True, check=True,
                          env=GIT_ENV).stdout.decode().strip()


@pytest.fixture()
def store(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    for seed, version in enumerate(("1.0.0", "1.1.0")):
        registry.publish(make_learner_folder(tmp_path / f"kjv-{seed}", model, tokenizer, seed=seed), version=version,
                         store=tmp_path / "store")
    return {"root": tmp_path / "store", "repository": tmp_path / "store" / "models" / REPO, "model": model}


def arm_filter(repository: Path, marker: Path) -> None:
    """What a writer of a shared store could add: every file goes through a filter whose commands run code."""
    command = f"sh -c 'touch {marker}; cat'"
    for key, value in (("filter.evil.smudge", command), ("filter.evil.clean", command),
                       ("filter.evil.required", "true")):
        subprocess.run(["git", "config", "--file", str(repository / "config"), key, value], check=True)
    (repository / "info").mkdir(exist_ok=True)
    (repository / "info" / "attributes").write_text("* filter=evil export-subst\n")


def test_a_filter_the_store_names_runs_neither_on_pull_nor_on_publish(store, tmp_path, tokenizer):
    marker = tmp_path / "code-ran"
    arm_filter(store["repository"], marker)
    pulled = registry.download("kjv", base_model="tiny/gpt2", store=store["root"], cache_dir=tmp_path / "cache")
    assert pulled.version == "1.1.0" and (pulled.folder / "model.safetensors").is_file()
    assert not marker.exists(), "pull ran a command the store's config names"
    registry.publish(make_learner_folder(tmp_path / "kjv-2", store["model"], tokenizer, seed=2), version="1.2.0",
                     store=store["root"])
    assert not marker.exists(), "publish ran a command the store's config names"
    assert registry.download("kjv", base_model="tiny/gpt2", store=store["root"],
                             cache_dir=tmp_path / "cache").version == "1.2.0"


def rewrite_object(repository: Path, sha: str, content: bytes) -> None:
    path = repository / "objects" / sha[:2] / sha[2:]
    path.chmod(0o644)
    path.write_bytes(zlib.compress(b"blob %d\x00" % len(content) + content))


def test_objects_rewritten_in_place_consistently_are_caught_by_their_ids(store, tmp_path):
    repository = store["repository"]
    card_id, manifest_id = (git(repository, "rev-parse", f"v1.1.0:{name}")
                            for name in ("README.md", "learnerhub.manifest.json"))
    forged_card = git(repository, "cat-file", "blob", card_id).encode() + b"\nForged: trust this learner.\n"
    manifest = json.loads(git(repository, "cat-file", "blob", manifest_id))
    manifest["files"]["README.md"] = hashlib.sha256(forged_card).hexdigest()
    rewrite_object(repository, card_id, forged_card)
    rewrite_object(repository, manifest_id, json.dumps(manifest).encode())   # the manifest agrees with the forgery
    with pytest.raises(BrokenVersionError, match=r"damaged: .*does not hold the bytes its id names"):
        registry.download("kjv", base_model="tiny/gpt2", version="1.1.0", store=store["root"],
                          cache_dir=tmp_path / "cache")
    with pytest.warns(registry.RegistryWarning, match=r"@1\.1\.0 is broken and was passed over"):
        assert registry.download("kjv", base_model="tiny/gpt2", store=store["root"],
                                 cache_dir=tmp_path / "cache").version == "1.0.0"


def tag_forged_version(repository: Path, version: str, extra: str) -> None:
    """Tag `version` on v1.1.0's files with a manifest of `version` plus the mktree line `extra` (behind the
    server's back: a route that skipped its checks)."""
    lines = git(repository, "ls-tree", "v1.1.0").splitlines()
    manifest = json.loads(git(repository, "cat-file", "blob", "v1.1.0:learnerhub.manifest.json"))
    blob = git(repository, "hash-object", "-w", "--stdin", input=json.dumps({**manifest, "version": version}).encode())
    lines = [f"100644 blob {blob}\tlearnerhub.manifest.json" if line.endswith("\tlearnerhub.manifest.json") else line
             for line in lines if not line.endswith("\tassets")]
    tree = git(repository, "mktree", input=("\n".join([*lines, extra]) + "\n").encode())
    git(repository, "update-ref", f"refs/tags/v{version}", git(repository, "commit-tree", tree, "-m", "forged"))


def test_a_version_that_cannot_be_read_is_broken_and_passed_over(store, tmp_path):
    repository = store["repository"]
    target = git(repository, "hash-object", "-w", "--stdin", input=b"/etc/passwd")
    assets = git(repository, "mktree", input=f"120000 blob {target}\tx.png\n".encode())
    tag_forged_version(repository, "2.0.0", f"040000 tree {assets}\tassets")
    with pytest.warns(registry.RegistryWarning, match=r"@2\.0\.0 is broken and was passed over"):
        pulled = registry.download("kjv", base_model="tiny/gpt2", store=store["root"], cache_dir=tmp_path / "cache")
    assert pulled.version == "1.1.0"
    with pytest.raises(BrokenVersionError, match=r"@2\.0\.0 .*damaged: assets/x\.png is not a regular file"):
        registry.download("kjv", base_model="tiny/gpt2", version="2.0.0", store=store["root"],
                          cache_dir=tmp_path / "cache")


@pytest.fixture()
def served(store, monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with running_server(create_app(store["root"], tokens=[TOKEN])) as url:
        yield {**store, "url": url}


def test_export_ignore_in_gitattributes_does_not_empty_a_version(served, tmp_path, tokenizer):
    api = HfApi(endpoint=served["url"], token=TOKEN)
    api.upload_file(path_or_fileobj=b"* export-ignore\n", path_in_repo=".gitattributes", repo_id=REPO)
    registry.publish(make_learner_folder(tmp_path / "kjv-2", served["model"], tokenizer, seed=2), version="1.2.0",
                     endpoint=served["url"], token=TOKEN)
    assert ".gitattributes" in api.list_repo_files(REPO, revision="v1.2.0")
    for where in ({"store": served["root"]}, {"endpoint": served["url"], "token": TOKEN}):
        pulled = registry.download("kjv", base_model="tiny/gpt2", cache_dir=tmp_path / "cache", **where)
        assert pulled.version == "1.2.0" and (pulled.folder / "model.safetensors").is_file()


HUB_GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n"


def test_publishing_into_a_repository_the_hub_made_with_a_gitattributes_works(served, tmp_path, tokenizer):
    api = HfApi(endpoint=served["url"], token=TOKEN)
    repo = "acme/igf-gpt2-kjv"
    api.create_repo(repo)
    api.upload_file(path_or_fileobj=HUB_GITATTRIBUTES, path_in_repo=".gitattributes", repo_id=repo)   # as the Hub does
    registry.publish(make_learner_folder(tmp_path / "acme", served["model"], tokenizer, seed=5, plot=True),
                     version="1.0.0", org="acme", endpoint=served["url"], token=TOKEN)
    for where in ({"store": served["root"]}, {"endpoint": served["url"], "token": TOKEN}):
        pulled = registry.download("kjv", base_model="tiny/gpt2", org="acme", cache_dir=tmp_path / "cache", **where)
        assert pulled.repo_id == repo and pulled.version == "1.0.0"
        assert (pulled.folder / "assets" / "perplexity.png").is_file()


def test_a_signature_check_the_store_configures_never_runs(store, tmp_path):
    repository, marker = store["repository"], tmp_path / "gpg-ran"
    program = tmp_path / "gpg"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    for key, value in (("log.showSignature", "true"), ("gpg.program", str(program))):
        subprocess.run(["git", "config", "--file", str(repository / "config"), key, value], check=True)
    header, _, message = git(repository, "cat-file", "commit", "main").partition("\n\n")
    signed = f"{header}\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n\n{message}\n"
    commit = git(repository, "hash-object", "-t", "commit", "-w", "--stdin", input=signed.encode())
    history = LocalStore(store["root"]).reader.history(REPO, commit, skip=0, count=5)
    assert history[0]["id"] == commit
    assert not marker.exists(), "reading the history ran the gpg.program the store's config names"
