"""Familiar entry points: `learnerhub pull ORG/NAME[@VERSION]`, the 12-digit commit ids learnerhub prints
accepted wherever a version is, and `learnerhub --version`; against a local store and a real server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from model_helpers import make_tiny_gpt2
from huggingface_hub import constants
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main
from registry.errors import InvalidVersionError, VersionNotFoundError
from registry.versions import VersionSpec
from server import create_app
from server.testing import running_server

REPO = "local/igf-gpt2-kjv"


@pytest.fixture()
def store(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    for version, seed in (("1.0.0", 0), ("1.1.0", 1)):
        registry.publish(make_learner_folder(tmp_path / f"kjv-{seed}", model, tokenizer, seed=seed),
                         version=version, store=tmp_path / "store")
    return tmp_path / "store"


def pull_json(capsys, *argv: str) -> dict:
    assert main(["pull", *argv, "--no-lock", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_pull_by_repository_and_by_short_commit(store, capsys, monkeypatch):
    versions = registry.info(REPO, store=store).versions
    short = versions["1.0.0"][:12]
    assert pull_json(capsys, REPO, "--store", str(store))["version"] == "1.1.0"
    by_reference = pull_json(capsys, f"{REPO}@1.0.0", "--store", str(store))
    assert by_reference["version"] == "1.0.0" and by_reference["commit"] == versions["1.0.0"]
    assert by_reference["corpus"] == "kjv" and by_reference["base_model"] == "tiny/gpt2"
    assert pull_json(capsys, REPO, "--version", short, "--store", str(store))["commit"] == versions["1.0.0"]
    assert pull_json(capsys, "kjv", "--base-model", "tiny/gpt2", "--version", short, "--store",
                     str(store))["version"] == "1.0.0"
    assert main(["info", f"{REPO}@{short}", "--store", str(store)]) == 0
    assert versions["1.0.0"] in capsys.readouterr().out

    assert main(["pull", "kjv", "--store", str(store)]) == 2
    assert "--base-model" in capsys.readouterr().err
    assert main(["pull", f"{REPO}@1.0.0", "--version", "1.1.0", "--store", str(store)]) == 2
    assert "version once" in capsys.readouterr().err
    assert main(["pull", REPO, "--version", "0000000", "--store", str(store)]) == 2
    assert "No published version" in capsys.readouterr().err


def test_pull_org_name_with_a_base_model_is_a_dataset_id_first_then_a_repository(store, tmp_path, tokenizer,
                                                                                   capsys):
    """`pull ORG/NAME --base-model X`: a learner whose corpus is that dataset id wins; without one, the repository
    ORG/NAME, checked against X; neither: the corpus error, which lists what the store has."""
    by_repository = pull_json(capsys, REPO, "--base-model", "tiny/gpt2", "--store", str(store))
    assert (by_repository["repo_id"], by_repository["version"]) == (REPO, "1.1.0")
    assert main(["pull", REPO, "--base-model", "smollm2", "--store", str(store), "--no-lock"]) == 2
    assert "not for" in capsys.readouterr().err   # the repository exists: say its base model is another
    assert main(["pull", "nobody/nothing", "--base-model", "tiny/gpt2", "--store", str(store), "--no-lock"]) == 2
    assert "no learner for corpus 'nobody/nothing'" in capsys.readouterr().err

    model = make_tiny_gpt2(tokenizer)
    registry.publish(make_learner_folder(tmp_path / "fineweb", model, tokenizer, corpus="fineweb",
                                         dataset_id="HuggingFaceFW/fineweb"), version="1.0.0", store=store)
    by_dataset = pull_json(capsys, "HuggingFaceFW/fineweb", "--base-model", "tiny/gpt2", "--store", str(store))
    assert by_dataset["repo_id"] == "local/igf-gpt2-fineweb", by_dataset["repo_id"]


def test_short_commits_in_version_specs():
    published = {"1.0.0": "abcdef1234567890" + "0" * 24, "1.1.0": "abcdef9999999999" + "0" * 24}
    assert VersionSpec.parse("abcdef12345678").pick(published) == ("1.0.0", published["1.0.0"])
    assert VersionSpec.parse("ABCDEF9").pick(published)[0] == "1.1.0"
    with pytest.raises(InvalidVersionError, match="ambiguous"):
        VersionSpec.parse("abcdef1").pick({"1.0.0": published["1.0.0"], "1.1.0": "abcdef1" + "f" * 33})
    with pytest.raises(InvalidVersionError, match="not valid"):
        VersionSpec.parse("abcdef")   # 6 digits: too short to name a commit
    with pytest.raises(VersionNotFoundError):
        VersionSpec.parse("1234567").pick(published)
    assert VersionSpec.parse("1.0.0").specifier is not None and VersionSpec.parse("1.0.0").commit is None


def test_pull_by_repository_from_a_server(store, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with running_server(create_app(store, tokens=["t"])) as url:
        pulled = pull_json(capsys, f"{REPO}@1.0.0", "--endpoint", url)
    assert pulled["version"] == "1.0.0" and pulled["repo_id"] == REPO


def test_learnerhub_version():
    shown = subprocess.run([sys.executable, "-m", "learnerhub.cli", "--version"], capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0 and shown.stdout.startswith("learnerhub ") and shown.stdout.strip() != "learnerhub"


def test_a_wrong_or_missing_token_is_one_line_not_a_traceback(store, tmp_path, capsys, monkeypatch, tokenizer):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    folder = make_learner_folder(tmp_path / "new", make_tiny_gpt2(tokenizer), tokenizer, seed=7)
    with running_server(create_app(store, tokens=["right"], private_reads=True)) as url:
        for token, argv in ((None, ["publish", str(folder), "--version", "2.0.0"]), ("wrong", ["list"]),
                            ("wrong", ["yank", f"{REPO}@1.0.0", "--reason", "x"])):
            monkeypatch.delenv("HF_TOKEN", raising=False)
            if token:
                monkeypatch.setenv("HF_TOKEN", token)
            assert main([*argv, "--endpoint", url]) == 2
            err = capsys.readouterr().err.strip()
            said = "without a token" if token is None else "answered 401"   # no token at all: said before any request
            assert err.count("\n") == 0 and said in err and "HF_TOKEN" in err, err
