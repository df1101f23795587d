"""Publishing takes regular files only: a symlink in a learner folder (`assets/x.png -> /etc/passwd`) would
publish whatever it names, to a local store or an endpoint. Each case is one line naming the path, exit 2."""

from __future__ import annotations

import os

import pytest
from huggingface_hub import constants
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)
from test_cli_inputs import one_error_line

from server import create_app
from server.testing import running_server

TOKEN = "publish-token"
SECRET = b"root:x:0:0:secret line that must never be published\n"


@pytest.fixture()
def secret(tmp_path):
    path = tmp_path / "outside" / "passwd"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


@pytest.fixture()
def learner(tmp_path, tokenizer):
    return make_learner_folder(tmp_path / "learner", make_tiny_gpt2(tokenizer), tokenizer, plot=True)


def linked_file(learner, secret):
    os.symlink(secret, learner / "assets" / "x.png")
    return "assets/x.png"


def linked_folder(learner, secret):
    os.symlink(secret.parent, learner / "assets" / "more")
    return "assets/more"


def linked_weights(learner, secret):
    (learner / "model.safetensors").rename(secret.parent / "model.safetensors")
    os.symlink(secret.parent / "model.safetensors", learner / "model.safetensors")
    return "model.safetensors"


def linked_assets(learner, secret):
    for child in (learner / "assets").iterdir():
        child.unlink()
    (learner / "assets").rmdir()
    os.symlink(secret.parent, learner / "assets")
    return "assets"


@pytest.mark.parametrize("plant", [linked_file, linked_folder, linked_weights, linked_assets])
def test_a_symlink_in_the_folder_is_refused_by_a_local_store(plant, learner, secret, tmp_path, capsys):
    path = plant(learner, secret)
    line = one_error_line(capsys, "publish", str(learner), "--version", "1.0.0", "--store", str(tmp_path / "store"))
    assert f"{learner / path} is a symlink" in line
    assert not (tmp_path / "store" / "models").exists() or not any((tmp_path / "store" / "models").rglob("*kjv*"))


def test_a_symlink_in_the_folder_is_refused_by_an_endpoint(learner, secret, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    path = linked_file(learner, secret)
    with running_server(create_app(tmp_path / "served", tokens=[TOKEN])) as url:
        line = one_error_line(capsys, "publish", str(learner), "--version", "1.0.0", "--endpoint", url)
        assert f"{learner / path} is a symlink" in line
        served = tmp_path / "served" / "models"
        assert not served.exists() or not any(served.rglob("*kjv*"))


def test_regular_assets_still_publish(learner, tmp_path, capsys):
    import registry

    published = registry.publish(learner, version="1.0.0", store=tmp_path / "store")
    assert "assets/perplexity.png" in published.files
