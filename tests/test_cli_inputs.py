"""The audited bad inputs of the command line: each ends in one actionable line and exit status 2."""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import time

import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main


def one_error_line(capsys, *argv: str) -> str:
    """Run the CLI in-process: it must return 2 (an exception escaping is the traceback we refuse)."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("learnerhub: error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


def damaged_gzip(path):
    data = bytearray(gzip.compress("".join(json.dumps({"text": f"word {i} " * 20}) + "\n"
                                           for i in range(500)).encode()))
    for position in range(30, len(data) - 20, 7):   # flip bits inside the deflate stream: zlib.error
        data[position] ^= 0x55
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_gzip_corpus(tmp_path, capsys):
    line = one_error_line(capsys, "build", "--corpus", str(damaged_gzip(tmp_path / "c.jsonl.gz")),
                          "--base-model", str(tmp_path / "none"), "--out", str(tmp_path / "o"))
    assert "c.jsonl.gz" in line


def test_a_lone_surrogate_in_a_corpus(tmp_path, capsys):
    corpus = tmp_path / "s.jsonl"
    corpus.write_text('{"text": "fine text"}\n{"text": "broken \\ud800 text"}\n')
    line = one_error_line(capsys, "build", "--corpus", str(corpus), "--base-model", str(tmp_path / "none"),
                          "--out", str(tmp_path / "o"))
    assert "s.jsonl:2" in line and "surrogate" in line


def test_a_bad_threshold(tmp_path, capsys):
    line = one_error_line(capsys, "finetune", "--threshold", "constant:abc", "--base-model", str(tmp_path / "none"))
    assert "constant:abc" in line


def test_an_unreachable_endpoint_is_reported_once_and_quickly(capsys):
    with socket.socket() as sock:   # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    line = one_error_line(capsys, "list", "--endpoint", f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 10 and f"127.0.0.1:{port}" in line and "Cannot reach" in line


def test_a_tokens_file_holding_a_plain_token(tmp_path, capsys):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("my-plain-secret\n")
    line = one_error_line(capsys, "serve", "--tokens-file", str(tokens), "--store", str(tmp_path / "store"))
    assert "sha256" in line and "my-plain-secret" not in line
    one_error_line(capsys, "serve", "--tokens-file", str(tmp_path / "missing.txt"), "--store", str(tmp_path / "s"))


def test_a_store_that_is_a_file(tmp_path, capsys):
    store = tmp_path / "not-a-folder"
    store.write_text("x")
    assert "is a file" in one_error_line(capsys, "list", "--store", str(store))
    assert "not-a-folder" in one_error_line(capsys, "serve", "--store", str(store))


def test_a_corrupt_index_is_rebuilt_from_the_repositories(tmp_path, tokenizer, capsys):
    store = tmp_path / "store"
    registry.publish(make_learner_folder(tmp_path / "kjv", make_tiny_gpt2(tokenizer), tokenizer), version="1.0.0",
                     store=store)
    assert main(["list", "--store", str(store), "--json"]) == 0
    capsys.readouterr()
    index = store / ".learnerhub" / "index.sqlite"
    index.write_bytes(b"this is not a database" * 100)
    assert main(["list", "--store", str(store), "--json"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["latest"] for line in captured.out.splitlines()] == ["1.0.0"]
    assert "damaged" in captured.err
    with sqlite3.connect(index) as connection:   # a real database again
        assert connection.execute("SELECT count(*) FROM repos").fetchone() == (1,)


@pytest.mark.parametrize("damage", [b"", b"SQLite format 3\x00" + b"\xff" * 4000])
def test_other_index_damage(tmp_path, tokenizer, capsys, damage):
    store = tmp_path / "store"
    registry.publish(make_learner_folder(tmp_path / "kjv", make_tiny_gpt2(tokenizer), tokenizer), version="1.0.0",
                     store=store)
    (store / ".learnerhub" / "index.sqlite").write_bytes(damage)
    assert main(["list", "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["latest"] == "1.0.0"
