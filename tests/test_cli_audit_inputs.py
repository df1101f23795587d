"""Inputs an outside audit found ending in a traceback (or doing the wrong thing quietly): each is now one
actionable line on stderr and exit status 2, checked through the real command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import pytest
import torch
from huggingface_hub import constants
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)
from test_cli_inputs import one_error_line

import registry
from learnerhub.cli.main import main
from server import create_app
from server.core.auth import TokenRegistry
from server.testing import running_server

TOKEN = "audit-token"


def argparse_error(capsys, *argv: str) -> str:
    """An argument argparse refuses: exit status 2 and its one `error:` line, before anything runs."""
    started = time.monotonic()
    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    assert stopped.value.code == 2 and time.monotonic() - started < 5
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err) and ": error: " in err[-1]
    return err[-1]


def test_publishing_to_an_endpoint_without_a_token(tmp_path, tokenizer, capsys, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))   # no token saved by `hf auth login` either
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = make_tiny_gpt2(tokenizer)
    tokens = TokenRegistry.configure(tokens=[TOKEN], read_tokens=["read-only"], environ={})
    with running_server(create_app(tmp_path / "served", tokens=tokens)) as url:
        line = one_error_line(capsys, "publish", str(make_learner_folder(tmp_path / "a", model, tokenizer)),
                              "--version", "1.0.0", "--endpoint", url)
        assert "token" in line.lower() and "HF_TOKEN" in line
        registry.publish(make_learner_folder(tmp_path / "b", model, tokenizer, seed=1), version="1.0.0", endpoint=url,
                         token=TOKEN)   # the repository exists now: the client takes another path
        line = one_error_line(capsys, "publish", str(make_learner_folder(tmp_path / "c", model, tokenizer, seed=2)),
                              "--version", "1.1.0", "--endpoint", url)
        assert "token" in line.lower() and "HF_TOKEN" in line
        monkeypatch.setenv("HF_TOKEN", "read-only")   # a token that may read but not write
        line = one_error_line(capsys, "publish", str(make_learner_folder(tmp_path / "c", model, tokenizer, seed=2)),
                              "--version", "1.1.0", "--endpoint", url)
        assert "answered 403" in line and "write token" in line


def pickled_weights(folder) -> None:
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(4)}, buffer)   # what `torch.save` writes: a pickle in a zip
    (folder / "model.safetensors").write_bytes(buffer.getvalue())


def test_weights_that_are_a_pickle_are_refused_without_unpickling(tmp_path, tokenizer, capsys):
    folder = make_learner_folder(tmp_path / "learner", make_tiny_gpt2(tokenizer), tokenizer)
    pickled_weights(folder)
    line = one_error_line(capsys, "publish", str(folder), "--version", "1.0.0", "--store", str(tmp_path / "store"))
    assert "model.safetensors is not a safetensors file" in line
    assert not (tmp_path / "store" / "models").exists() or not any((tmp_path / "store" / "models").rglob("*kjv*"))


def test_too_few_pairs_are_refused_before_any_probing(tmp_path, capsys):
    line = argparse_error(capsys, "build", "--corpus", str(tmp_path / "none.jsonl"), "--base-model",
                          str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--pairs", "8")
    assert "--pairs" in line and "20" in line


def test_a_deeply_nested_json_line_in_a_corpus(tmp_path, capsys):
    corpus = tmp_path / "deep.jsonl"
    corpus.write_text('{"text": "fine"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    line = one_error_line(capsys, "build", "--corpus", str(corpus), "--base-model", str(tmp_path / "none"),
                          "--out", str(tmp_path / "o"))
    assert "deep.jsonl:2" in line and "nested" in line


@pytest.fixture()
def store(tmp_path, tokenizer):
    registry.publish(make_learner_folder(tmp_path / "kjv", make_tiny_gpt2(tokenizer), tokenizer), version="1.0.0",
                     store=tmp_path / "store")
    return tmp_path / "store"


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "learnerhub.cli", *args], env=env, timeout=60, **kwargs)


def test_stdout_closed_or_full(store):
    closed = subprocess.run(f"{sys.executable} -m learnerhub.cli list --store {store} | head -c 0", shell=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                            timeout=120)
    assert b"Traceback" not in closed.stderr and b"Exception ignored" not in closed.stderr, closed.stderr
    with open("/dev/full", "wb") as full:
        answer = cli("list", "--store", str(store), stdout=full, stderr=subprocess.PIPE)
    err = answer.stderr.decode().strip().splitlines()
    assert answer.returncode == 2 and len(err) == 1 and "No space left" in err[0], answer.stderr.decode()


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_serve_refuses_a_port_out_of_range(port, tmp_path):
    answer = cli("serve", "--store", str(tmp_path / "store"), "--port", port, capture_output=True, text=True)
    assert answer.returncode == 2 and "Traceback" not in answer.stderr   # (it used to serve, on another port)
    assert "--port" in answer.stderr.splitlines()[-1] and "65535" in answer.stderr.splitlines()[-1]


def test_pull_by_repository_with_a_base_model(store, tmp_path, capsys):
    os.chdir(tmp_path)
    assert main(["pull", "local/igf-gpt2-kjv@1.0.0", "--base-model", "tiny/gpt2", "--store", str(store),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "1.0.0"
    line = one_error_line(capsys, "pull", "local/igf-gpt2-kjv@1.0.0", "--base-model", "smollm2", "--store", str(store))
    assert "local/igf-gpt2-kjv" in line and "tiny/gpt2" in line and "SmolLM2" in line
