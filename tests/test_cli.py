"""`learnerhub build` and `learnerhub finetune` end to end on a tiny model, and their errors."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from learnerhub.cli.main import main

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]


def run_cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "learnerhub.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_build_then_finetune_side_by_side(tmp_path, tiny_model_folder, jsonl_corpus, capsys):
    out = tmp_path / "learner"
    assert main(["build", "--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder), "--out", str(out),
                 "--pairs", "40", "--learner-epochs", "5", *TINY]) == 0
    metadata = json.loads((out / "learner.json").read_text())
    assert metadata["probe"]["name"] == "fast" and metadata["corpus"]["name"] == "tiny-corpus"
    assert metadata["metrics"]["pairs"] == 40 and "test_spearman" in metadata["metrics"]
    plot = out / "assets" / "build_plot.png"   # held-out predicted vs measured gain, shown on the card
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![assets/build_plot.png](assets/build_plot.png)" in (out / "README.md").read_text()
    warned = capsys.readouterr().err   # what the card warns of is said at build time too
    assert "learnerhub: warning: It was built on its target alone" in warned and "No fine-tuning evaluation" in warned
    assert main(["finetune", "--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder),
                 "--learner", str(out), "--steps", "4", "--batch-size", "4", "--eval-every", "2",
                 "--threshold", "constant:-0.5", "--plot", str(tmp_path / "ppl.png"), "--json", *TINY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["results"]) == {"standard", "igf"}
    for arm in report["results"].values():
        assert [e["step"] for e in arm["evaluations"]] == [0, 2, 4]
        assert arm["lm_backward_contexts"] == 16
    assert (tmp_path / "ppl.png").read_bytes()[:4] == b"\x89PNG"


def test_errors_are_clear_and_exit_2(tmp_path, tiny_model_folder):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"body": 1}\n')
    result = run_cli("build", "--corpus", str(bad), "--base-model", str(tiny_model_folder), "--out",
                     str(tmp_path / "x"))
    assert result.returncode == 2
    assert "learnerhub: error:" in result.stderr and "no string field 'text'" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("finetune", "--base-model", str(tmp_path / "no-such-model"), "--steps", "1")
    assert result.returncode == 2 and "Cannot load base model" in result.stderr
    assert not (tmp_path / "x").exists()


def test_help_explains_every_flag():
    result = run_cli("build", "--help")
    assert result.returncode == 0
    for flag in ("--corpus", "--base-model", "--out", "--probe", "--pairs", "--seed"):
        assert flag in result.stdout


def _weights_digest(folder: Path) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def test_accelerate_launch_shards_the_probe_and_merges_deterministically(tmp_path, tiny_model_folder, jsonl_corpus):
    common = ["build", "--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder), "--probe", "exact",
              "--pairs", "24", "--head", "conv", "--learner-epochs", "5", *TINY]
    single = run_cli(*common, "--out", str(tmp_path / "one"))
    assert single.returncode == 0, single.stderr
    launched = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
         "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "-m", "learnerhub.cli", *common, "--out", str(tmp_path / "two")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert launched.returncode == 0, launched.stderr[-3000:]
    one = json.loads((tmp_path / "one" / "learner.json").read_text())
    two = json.loads((tmp_path / "two" / "learner.json").read_text())
    assert (one["metrics"]["probe_processes"], two["metrics"]["probe_processes"]) == (1, 2)
    assert two["metrics"]["pairs"] == one["metrics"]["pairs"] == 24
    for key in ("test_spearman", "validation_spearman", "label_mean", "label_std", "best_epoch"):
        assert two["metrics"][key] == pytest.approx(one["metrics"][key], rel=1e-5, abs=1e-6), key
    assert _weights_digest(tmp_path / "one") == _weights_digest(tmp_path / "two")


def test_build_with_a_target_records_both_corpora_and_resolves_by_the_target(tmp_path, tiny_model_folder,
                                                                            documents, capsys):
    from model_helpers import WORDS, synthetic_documents

    import registry
    from learners.base_models import load_base_model

    def write(name, texts):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
        return path

    target = write("bible.jsonl", documents)
    pool = write("mixed.jsonl", documents + synthetic_documents(40, seed=5, vocabulary=[w[::-1] for w in WORDS]))
    out = tmp_path / "learner"
    assert main(["build", "--corpus", str(pool), "--target", str(target), "--base-model", str(tiny_model_folder),
                 "--out", str(out), "--pairs", "40", "--head", "bag_of_tokens", *TINY]) == 0
    built = capsys.readouterr()
    assert "for corpus 'bible' from pool 'mixed'" in built.out and "built on its target alone" not in built.err
    metadata = json.loads((out / "learner.json").read_text())
    assert metadata["corpus"]["name"] == "bible" and metadata["pool"]["name"] == "mixed"
    assert metadata["pool"]["fingerprint"] != metadata["corpus"]["fingerprint"]
    assert json.loads((out / "config.json").read_text())["head"] == "bag_of_tokens"
    store = tmp_path / "store"
    registry.publish(out, version="1.0.0", store=store)
    model, tokenizer, ref = load_base_model(str(tiny_model_folder))
    learner, resolution = registry.pull("bible", base_model=ref.model_id, store=store, model=model, tokenizer=tokenizer)
    assert learner.metadata.pool.name == "mixed" and resolution.version == "1.0.0"
    assert main(["finetune", "--corpus", str(pool), "--target", str(target), "--base-model", str(tiny_model_folder),
                 "--learner", str(out), "--steps", "2", "--batch-size", "4", "--eval-every", "2",
                 "--threshold", "top:0.5", "--json", *TINY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["results"]) == ["standard", "standard-target", "igf"]
    assert 0.3 < report["results"]["igf"]["acceptance_rate"] < 0.7


def test_a_bad_threshold_is_one_line_and_exit_2(tiny_model_folder):
    result = run_cli("finetune", "--base-model", str(tiny_model_folder), "--threshold", "bogus", "--steps", "1")
    assert result.returncode == 2 and "Bad threshold 'bogus'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["build", "--pairs", "0", "--out", "x"], "argument --pairs: must be at least 20"),
    (["finetune", "--steps", "-3"], "argument --steps: must be at least 1, not -3"),
    (["eval", "auto", "--seeds", "0"], "argument --seeds: must be at least 1, not 0"),
    (["finetune", "--threshold", "constant:abc"], "Bad threshold 'constant:abc'"),
])
def test_bad_numbers_are_one_clear_line_and_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".arrow"])
def test_a_damaged_dataset_file_is_a_corpus_error(tmp_path, suffix):
    from learners.corpora.corpus import load_corpus
    from learners.errors import CorpusError

    damaged = tmp_path / f"broken{suffix}"
    damaged.write_bytes(b"\x00\x01 not a real file \xff" * 3)
    try:
        load_corpus(damaged)
    except CorpusError as error:
        assert str(damaged) in str(error)
    else:   # a CSV reader may accept the bytes as one odd column: then the text column is what is missing
        pytest.fail("a damaged dataset file was read as a corpus")


def test_a_reader_that_goes_away_ends_the_listing_quietly(tmp_path):
    """`learnerhub list | head -1`: the pipe closes before learnerhub writes; exit 0, no traceback. (The
    table, since an empty store lists no JSON lines; both go through the same exit path.)"""
    process = subprocess.Popen([sys.executable, "-m", "learnerhub.cli", "list", "--store",
                                str(tmp_path / "store")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()          # the reader is gone before the interpreter has even started
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
