"""The familiar entry points: `learner.push_to_hub(...)` and `load_learner("org/name@1.2", model, tokenizer)`,
into and out of the local store and a real server on 127.0.0.1, from a bare checkout (no installed package), and
through the installed entry point alone."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import constants
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learners import load_learner
from learners.errors import BaseModelMismatchError
from cards.format.naming import is_reference
from server import create_app
from server.testing import running_server

REPO = "local/igf-gpt2-kjv"


@pytest.fixture()
def learner(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    return load_learner(make_learner_folder(tmp_path / "built", model, tokenizer), model, tokenizer), model


def test_push_to_the_local_store_and_load_by_repository_id(learner, tmp_path, tokenizer):
    built, model = learner
    published = built.push_to_hub(version="1.0.0", store=tmp_path / "store")
    assert (published.repo_id, published.version) == (REPO, "1.0.0")
    built.push_to_hub("team", version="1.1.0", store=tmp_path / "store")
    loaded = load_learner(f"{REPO}@1.0", model, tokenizer, store=tmp_path / "store")
    assert loaded.attached and loaded.metadata.corpus.name == "kjv"
    assert load_learner("team/igf-gpt2-kjv", store=tmp_path / "store").metadata.kind == "igf"
    with pytest.raises(BaseModelMismatchError):   # checked against the model like any load
        load_learner(REPO, make_tiny_gpt2(tokenizer, seed=5), tokenizer, store=tmp_path / "store")
    with pytest.raises(registry.InvalidVersionError, match="named 'igf-gpt2-kjv'"):
        built.push_to_hub("team/another-name", version="2.0.0", store=tmp_path / "store")
    with pytest.raises(registry.VersionExistsError):
        built.push_to_hub(version="1.0.0", store=tmp_path / "store")


def test_push_to_an_endpoint_and_load_from_it(learner, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    built, model = learner
    with running_server(create_app(tmp_path / "served", tokens=["t"])) as url:
        built.push_to_hub("acme", version="0.1.0", endpoint=url, token="t")
        loaded = load_learner("acme/igf-gpt2-kjv@0.1.0", model, endpoint=url)
    assert loaded.attached and registry.list_learners(store=tmp_path / "served")[0].latest == "0.1.0"


def test_a_folder_is_not_a_reference(tmp_path):
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert is_reference("acme/igf@1.0") and is_reference("acme/igf")
    assert not is_reference(str(tmp_path / "org" / "name")) and not is_reference("runs/a/b")


#: Run with `python -S` from a checkout: no .pth file (so no editable install) and no entry point is seen.
BARE_CHECKOUT = """
import importlib.metadata, sys
from pathlib import Path
importlib.metadata.entry_points = lambda **selection: importlib.metadata.EntryPoints(())
checkout, learner_folder, model_folder, store = sys.argv[1:]
from transformers import AutoModelForCausalLM
import learners, registry
from learners import load_learner
assert all(Path(package.__file__).is_relative_to(checkout) for package in (learners, registry))
model = AutoModelForCausalLM.from_pretrained(model_folder)
published = load_learner(learner_folder, model).push_to_hub(version="1.0.0", store=store)
loaded = load_learner(f"{published.repo_id}@1.0", model, store=store)
print(published.repo_id, published.version, loaded.metadata.corpus.name, loaded.attached)
"""


def test_push_and_load_by_reference_from_a_bare_checkout(tmp_path, tokenizer):
    """`import registry` registers the store with the library, so the checkout alone on sys.path (third-party
    packages beside it, no installed metadata, no entry point) publishes and loads by repository id."""
    model = make_tiny_gpt2(tokenizer)
    model.save_pretrained(tmp_path / "model")
    folder = make_learner_folder(tmp_path / "built", model, tokenizer)
    checkout = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), *site.getsitepackages()]),
           "LEARNERHUB_HOME": str(tmp_path / "home")}
    env.pop("LEARNERHUB_STORE", None)
    ran = subprocess.run([sys.executable, "-S", "-c", BARE_CHECKOUT, str(checkout), str(folder),
                          str(tmp_path / "model"), str(tmp_path / "store")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == [REPO, "1.0.0", "kjv", "True"]


#: The installed entry point alone: the script imports only the library, which finds the store it pulls through.
LIBRARY_ONLY = """
import sys
from learners import load_learner
assert "registry" not in sys.modules
learner = load_learner(sys.argv[1], store=sys.argv[2])
print(learner.metadata.corpus.name, "registry.learner_store" in sys.modules)
"""


def test_the_library_alone_finds_the_installed_store(learner, tmp_path):
    """`from learners import load_learner` pulls `ORG/NAME@VERSION` without the user importing the store: the
    library finds it through the entry point learnerhub installs (group `learnerhub.learner_stores`)."""
    built, _ = learner
    built.push_to_hub(version="1.0.0", store=tmp_path / "store")
    ran = subprocess.run([sys.executable, "-c", LIBRARY_ONLY, f"{REPO}@1.0.0", str(tmp_path / "store")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={**os.environ, "LEARNERHUB_HOME": str(tmp_path / "home")})
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == ["kjv", "True"]
