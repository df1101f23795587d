"""Pulling from a real local store: resolution, verification, helpful errors and the lock file."""

from __future__ import annotations

import json
import subprocess
import zlib

import pytest
import torch
from model_helpers import make_tiny_llama
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learners.errors import BaseModelMismatchError
from registry.errors import (
    IntegrityError,
    LearnerNotFoundError,
    LockFileError,
    VersionNotFoundError,
    WrongBaseModelError,
)

REPO = "local/igf-gpt2-kjv"


@pytest.fixture()
def store(tmp_path, tiny_gpt2, tokenizer):
    """A store with versions 1.0.0, 1.1.0 and 2.0.0 of the kjv learner (different weights each)."""
    store = tmp_path / "store"
    for seed, version in enumerate(["1.0.0", "1.1.0", "2.0.0"]):
        folder = make_learner_folder(tmp_path / f"learner-{version}", tiny_gpt2, tokenizer, seed=seed)
        registry.publish(folder, version=version, store=store)
    return store


def test_pull_returns_the_learner_attached_to_the_users_model(store, tiny_gpt2, tokenizer, tmp_path):
    learner, resolution = registry.pull("kjv", base_model="tiny/gpt2", store=store, model=tiny_gpt2,
                                        tokenizer=tokenizer)
    assert (resolution.repo_id, resolution.version) == (REPO, "2.0.0")
    assert learner.attached and learner.score(torch.randint(0, len(tokenizer), (3, 32))).shape == (3,)
    original = (tmp_path / "learner-2.0.0" / "model.safetensors").read_bytes()
    assert (resolution.folder / "model.safetensors").read_bytes() == original
    again = registry.pull("kjv", base_model="TINY/gpt2", store=store).resolution  # warm cache, same answer
    assert (again.commit, again.folder, again.files) == (resolution.commit, resolution.folder, resolution.files)


@pytest.mark.parametrize("spec, expected", [("1.0.0", "1.0.0"), (">=1.0,<2", "1.1.0"), ("~=1.0", "1.1.0"),
                                            ("<1.1", "1.0.0")])
def test_version_specs_pick_the_newest_match(store, spec, expected):
    assert registry.download("kjv", base_model="tiny/gpt2", version=spec, store=store).version == expected


def test_a_commit_sha_pins_a_version(store):
    commit = registry.info(f"{REPO}@1.1.0", store=store).commit
    resolution = registry.download("kjv", base_model="tiny/gpt2", version=commit, store=store)
    assert (resolution.version, resolution.commit) == ("1.1.0", commit)
    with pytest.raises(VersionNotFoundError, match="published: 1.0.0, 1.1.0, 2.0.0"):
        registry.download("kjv", base_model="tiny/gpt2", version=">=3", store=store)


def test_unknown_corpus_lists_the_closest_names(store):
    with pytest.raises(LearnerNotFoundError, match=r"no learner for corpus 'kvj'.*Did you mean 'kjv'"):
        registry.download("kvj", base_model="tiny/gpt2", store=store)
    with pytest.raises(LearnerNotFoundError, match="no learners yet"):
        registry.download("kjv", base_model="tiny/gpt2", store=store.parent / "empty-store")


def test_learner_for_another_base_model_names_both(store, tokenizer):
    with pytest.raises(WrongBaseModelError, match=r"built for base model\(s\) 'tiny/gpt2', not for "
                                                  r"'HuggingFaceTB/SmolLM2-135M-Instruct'"):
        registry.download("kjv", base_model="smollm2", store=store)
    with pytest.raises(BaseModelMismatchError, match="tiny/gpt2"):  # right name, other weights
        registry.pull("kjv", base_model="tiny/gpt2", store=store, model=make_tiny_llama(tokenizer),
                      tokenizer=tokenizer)


def test_a_tampered_file_in_the_cache_is_refused(store):
    resolution = registry.download("kjv", base_model="tiny/gpt2", store=store)
    weights = resolution.folder / "model.safetensors"
    tampered = bytearray(weights.read_bytes())
    tampered[-1] ^= 0xFF
    weights.write_bytes(bytes(tampered))
    with pytest.raises(IntegrityError, match=r"model\.safetensors has sha256 .* was published in .*Delete"):
        registry.pull("kjv", base_model="tiny/gpt2", store=store)
    assert weights.read_bytes() == bytes(tampered)  # refused, nothing deleted behind the user's back


def test_a_tampered_file_in_the_store_is_refused(store, tmp_path):
    repository = store / "models" / REPO
    blob = subprocess.run(["git", f"--git-dir={repository}", "rev-parse", "v2.0.0:model.safetensors"],
                          capture_output=True, text=True, check=True).stdout.strip()
    path = repository / "objects" / blob[:2] / blob[2:]
    content = subprocess.run(["git", f"--git-dir={repository}", "cat-file", "blob", blob], capture_output=True,
                             check=True).stdout
    forged = content[:-4] + b"\x00\x00\x80\x7f"
    path.chmod(0o644)
    path.write_bytes(zlib.compress(b"blob %d\x00" % len(forged) + forged))
    with pytest.raises(IntegrityError, match=r"store's copy of .*@2\.0\.0 .* is damaged: model\.safetensors: its "
                                              r"object .* does not hold the bytes its id names"):
        registry.download("kjv", base_model="tiny/gpt2", version="2.0.0", store=store, cache_dir=tmp_path / "fresh")
    with pytest.warns(registry.RegistryWarning, match=r"@2\.0\.0 is broken and was passed over"):
        newest_intact = registry.download("kjv", base_model="tiny/gpt2", store=store, cache_dir=tmp_path / "fresh")
    assert newest_intact.version == "1.1.0"
    assert not any((tmp_path / "fresh" / REPO).glob(f"{registry.info(REPO + '@2.0.0', store=store).commit}*"))


def test_the_lock_file_reproduces_a_pull(store, tmp_path, tiny_gpt2, tokenizer):
    lock = tmp_path / "project" / "learnerhub.lock"
    first = registry.download("kjv", base_model="tiny/gpt2", store=store, lock=lock)
    entry = json.loads(lock.read_text())["learners"][0]
    assert (entry["repo_id"], entry["version"], entry["commit"]) == (REPO, "2.0.0", first.commit)
    assert entry["files"] == first.files
    newer = make_learner_folder(tmp_path / "learner-2.1.0", tiny_gpt2, tokenizer, seed=9)
    registry.publish(newer, version="2.1.0", store=store)
    assert registry.download("kjv", base_model="tiny/gpt2", store=store).version == "2.1.0"
    locked = registry.download("kjv", base_model="tiny/gpt2", store=store, lock=lock, locked=True)
    assert (locked.version, locked.commit, locked.files) == ("2.0.0", first.commit, first.files)
    with pytest.raises(LockFileError, match="no 'igf' learner for corpus 'pydocs'"):
        registry.download("pydocs", base_model="tiny/gpt2", store=store, lock=lock, locked=True)
    lock.write_text("{not json")
    with pytest.raises(LockFileError, match="not a valid learnerhub lock file"):
        registry.download("kjv", base_model="tiny/gpt2", store=store, lock=lock, locked=True)


def test_locked_pull_refuses_a_moved_tag(store, tmp_path):
    lock = tmp_path / "learnerhub.lock"
    registry.download("kjv", base_model="tiny/gpt2", version="1.0.0", store=store, lock=lock)
    repository = store / "models" / REPO
    other = subprocess.run(["git", f"--git-dir={repository}", "rev-parse", "v1.1.0"], capture_output=True,
                           text=True, check=True).stdout.strip()
    subprocess.run(["git", f"--git-dir={repository}", "update-ref", "refs/tags/v1.0.0", other], check=True)
    with pytest.raises(IntegrityError, match="no longer has that tag on that commit"):
        registry.download("kjv", base_model="tiny/gpt2", store=store, lock=lock, locked=True)
