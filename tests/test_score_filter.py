"""`Learner.score_texts` and `learnerhub score | filter`: documents cut into contexts, Parquet scores per shard,
resumable and per-shard failures, the kept documents in the input's format."""

from __future__ import annotations

import gzip
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from scoring_helpers import CONTEXT_LENGTH, build_vocabulary_learner, mixed_documents, write_jsonl

from learnerhub.cli.main import main


@pytest.fixture()
def learner_folder(tmp_path, tokenizer, tiny_model_folder) -> Path:
    build_vocabulary_learner(tokenizer, tiny_model_folder, tmp_path / "learner")
    return tmp_path / "learner"


@pytest.fixture()
def learner(tmp_path, tokenizer, tiny_model_folder):
    return build_vocabulary_learner(tokenizer, tiny_model_folder, tmp_path / "learner")


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_score_texts_is_the_mean_of_the_contexts_covering_each_document(learner, tokenizer):
    long = " ".join(["the lord said unto moses"] * 8)
    ids = tokenizer(long, add_special_tokens=False)["input_ids"]
    assert len(ids) > 2 * CONTEXT_LENGTH and len(ids) % CONTEXT_LENGTH   # a tail: the last context ends at the end
    starts = list(range(0, len(ids) - CONTEXT_LENGTH + 1, CONTEXT_LENGTH)) + [len(ids) - CONTEXT_LENGTH]
    contexts = torch.tensor([ids[s:s + CONTEXT_LENGTH] for s in starts])
    expected = learner.score(contexts).double()
    short = "def class"
    scored = learner.score_documents([long, short, ""])

    assert scored.mean[0] == pytest.approx(float(expected.mean()), abs=1e-6)
    assert scored.max[0] == pytest.approx(float(expected.max()), abs=1e-6)
    assert scored.contexts.tolist() == [len(starts), 1, 0]
    short_ids = torch.tensor([tokenizer(short, add_special_tokens=False)["input_ids"]])
    assert scored.mean[1] == pytest.approx(float(learner.score(short_ids)[0]), abs=1e-6)   # whole tokens, no padding
    assert math.isnan(scored.mean[2]) and scored.tokens[2] == 0
    assert np.array_equal(learner.score_texts([long, short]), scored.mean[:2])
    assert np.array_equal(learner.score_texts([long, short], aggregate="max"), scored.max[:2])


def test_the_learner_ranks_what_it_was_fitted_to_prefer(learner):
    documents = mixed_documents(20, seed=5)   # even: scripture, odd: code
    scores = learner.score_texts(documents)
    assert scores[0::2].min() > scores[1::2].max()


def test_a_streaming_learner_scores_texts_with_its_predictor(tiny_gpt2, tokenizer):
    from model_helpers import metadata_for

    from learners.document_scores import context_starts
    from learners.streaming.learner import StreamingLearner
    from learners.streaming.meta_predictors import make_predictor

    predictor = make_predictor("hashed_logistic", vocab_size=len(tokenizer))
    ids = torch.randint(0, len(tokenizer), (64, 8))
    predictor.update(ids, (ids[:, 0] % 2).float())
    learner = StreamingLearner(predictor, 2.0, metadata_for(tiny_gpt2, tokenizer)).attach(
        tiny_gpt2, tokenizer)
    text = "the lord said unto moses and aaron speak to the children of israel " * 5
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert learner.context_length == 32 and len(ids) > 32   # not recorded: the build default
    contexts = torch.tensor([ids[start:start + 32] for start in context_starts(len(ids), 32)])
    scores = learner.score_texts([text])
    assert 0 < scores[0] < 1
    assert scores[0] == pytest.approx(float(predictor.predict_proba(contexts).double().mean()), abs=1e-6)


def test_a_text_level_kind_overrides_one_hook(tiny_gpt2, tokenizer):
    from model_helpers import metadata_for

    from learners.document_scores import DocumentScores
    from cards.format.errors import UsageError
    from learners.learner import Learner

    class LengthLearner(Learner):   # what a kind that reads raw text (no base model) overrides
        kind = "length"

        def score_documents(self, texts):
            return DocumentScores.per_document([len(t) for t in texts])

    learner = LengthLearner(metadata_for(tiny_gpt2, tokenizer))
    assert learner.score_texts(["ab", "abcd"]).tolist() == [2.0, 4.0]

    class WordsLearner(Learner):   # or it overrides score_texts alone: score_documents (what the CLI reads) follows
        kind = "words"

        def score_texts(self, texts):
            return np.array([len(t.split()) for t in texts], dtype=float)

    scored = WordsLearner(metadata_for(tiny_gpt2, tokenizer)).score_documents(["a b", "c"])
    assert scored.mean.tolist() == scored.max.tolist() == [2.0, 1.0] and scored.contexts.tolist() == [1, 1]
    assert scored.tokens is None and WordsLearner.can_score_text() and LengthLearner.can_score_text()

    class PlainLearner(Learner):   # a kind with neither hook
        kind = "plain"

    assert not PlainLearner.can_score_text()
    with pytest.raises(UsageError, match="A plain learner cannot score text"):
        PlainLearner(metadata_for(tiny_gpt2, tokenizer)).score_texts(["x"])


def test_score_then_filter_round_trip_in_each_format(tmp_path, learner, learner_folder, capsys):
    shards = [write_jsonl(tmp_path / "a.jsonl", mixed_documents(30, 1), prefix="a"),
              write_jsonl(tmp_path / "b.jsonl.gz", mixed_documents(21, 2), prefix="b")]
    text_documents = mixed_documents(9, 3)
    shards.append(tmp_path / "c.txt")
    shards[-1].write_text("\n\n".join(text_documents) + "\n")

    code, out, _ = run(capsys, "score", learner_folder, "--corpus", *shards, "--out", tmp_path / "scores",
                       "--workers", 1, "--batch-size", 8)
    assert code == 0 and "Scored 3 shard(s) (60 documents" in out
    a = pq.read_table(tmp_path / "scores" / "a.jsonl.scores.parquet").to_pydict()
    assert a["id"] == [f"a-{i}" for i in range(30)] and a["index"] == list(range(30))
    assert np.allclose(a["score"], learner.score_texts(mixed_documents(30, 1)))
    assert np.allclose(a["score_max"], learner.score_texts(mixed_documents(30, 1), aggregate="max"))
    assert set(a) >= {"score_mean", "contexts", "tokens"} and min(a["contexts"]) >= 1
    c = pq.read_table(tmp_path / "scores" / "c.txt.scores.parquet").to_pydict()
    assert np.allclose(c["score"], learner.score_texts(text_documents))

    code, out, _ = run(capsys, "filter", "--corpus", *shards, "--scores", tmp_path / "scores",
                       "--out", tmp_path / "kept", "--top", 0.5)
    assert code == 0, out
    all_scores = np.concatenate([pq.read_table(tmp_path / "scores" / f"{s.name}.scores.parquet")["score"].to_numpy()
                                 for s in shards])
    threshold = np.quantile(all_scores, 0.5, method="higher")
    kept_a = [json.loads(line) for line in (tmp_path / "kept" / "a.jsonl").read_text().splitlines()]
    assert [r["id"] for r in kept_a] == [f"a-{i}" for i, s in enumerate(a["score"]) if s >= threshold]
    assert kept_a and all(set(r) == {"id", "text", "meta"} for r in kept_a)   # records written back whole
    kept_b = gzip.decompress((tmp_path / "kept" / "b.jsonl.gz").read_bytes()).decode().splitlines()
    assert len(kept_b) == sum(1 for s in pq.read_table(tmp_path / "scores" / "b.jsonl.gz.scores.parquet")["score"]
                              .to_pylist() if s >= threshold)
    kept_c = (tmp_path / "kept" / "c.txt").read_text().strip().split("\n\n")
    assert kept_c == [d for d, s in zip(text_documents, c["score"]) if s >= threshold]
    assert sum(len(k) for k in (kept_a, kept_b, kept_c)) == int((all_scores >= threshold).sum())

    # Re-thresholding reads the same scores (a finished scoring is not redone either)
    before = (tmp_path / "scores" / "a.jsonl.scores.parquet").stat().st_mtime_ns
    code, out, _ = run(capsys, "filter", "--corpus", shards[0], "--scores", tmp_path / "scores",
                       "--out", tmp_path / "kept2", "--threshold", 10)
    assert code == 0 and "Kept 0 of 30" in out and (tmp_path / "kept2" / "a.jsonl").read_text() == ""
    code, out, _ = run(capsys, "score", learner_folder, "--corpus", *shards, "--out", tmp_path / "scores")
    assert "skipped 3 already finished" in out
    assert (tmp_path / "scores" / "a.jsonl.scores.parquet").stat().st_mtime_ns == before


def test_another_learner_or_a_changed_shard_is_scored_again(tmp_path, tokenizer, tiny_model_folder, learner_folder,
                                                            capsys):
    shard = write_jsonl(tmp_path / "a.jsonl", mixed_documents(6, 1))
    assert run(capsys, "score", learner_folder, "--corpus", shard, "--out", tmp_path / "s")[0] == 0
    other = tmp_path / "other"
    build_vocabulary_learner(tokenizer, tiny_model_folder, other, seed=7)
    code, out, _ = run(capsys, "score", other, "--corpus", shard, "--out", tmp_path / "s")
    assert code == 0 and "Scored 1 shard(s)" in out
    write_jsonl(shard, mixed_documents(7, 1))
    code, out, _ = run(capsys, "score", other, "--corpus", shard, "--out", tmp_path / "s")
    assert "Scored 1 shard(s) (7 documents" in out


def test_a_damaged_shard_fails_alone_and_is_named(tmp_path, learner_folder, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", mixed_documents(10, 1))
    truncated = write_jsonl(tmp_path / "truncated.jsonl.gz", mixed_documents(200, 2))
    truncated.write_bytes(truncated.read_bytes()[:-300])
    bad_line = write_jsonl(tmp_path / "badline.jsonl", mixed_documents(10, 3))
    bad_line.write_text(bad_line.read_text() + '{"text": "unterminated\n')
    code, out, err = run(capsys, "score", learner_folder, "--corpus", truncated, good, bad_line,
                         "--out", tmp_path / "s", "--workers", 1)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("learnerhub:")]   # after the progress bar
    assert len(errors) == 2 and "truncated.jsonl.gz" in errors[0] and "badline.jsonl:11" in errors[1]
    assert all(line.startswith("learnerhub: error: shard ") for line in errors)
    assert (tmp_path / "s" / "good.jsonl.scores.json").exists()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["good.jsonl.scores.json", "good.jsonl.scores.parquet"]


@pytest.mark.parametrize("args, message", [
    (["score", "{tmp}/missing-learner", "--corpus", "{shard}", "--out", "{tmp}/s"], "neither a learner folder"),
    (["score", "{learner}", "--corpus", "{tmp}/nope.jsonl", "--out", "{tmp}/s"], "does not exist"),
    (["score", "{learner}", "--corpus", "{shard}", "{tmp}/x/a.jsonl", "--out", "{tmp}/s"], "Several shards are named"),
    (["score", "{learner}", "--corpus", "{shard}", "--out", "{tmp}/s", "--base-model", "{tmp}/no-model"],
     "Cannot load base model"),
    (["filter", "--corpus", "{shard}", "--scores", "{tmp}/none", "--out", "{tmp}/k", "--top", "0.5"],
     "no finished scores for shard a.jsonl"),
    (["filter", "--corpus", "{shard}", "--scores", "{tmp}/scored", "--out", "{tmp}/k", "--top", "1.5"],
     "--top takes a fraction"),
    (["filter", "--corpus", "{tmp}/d.parquet", "--scores", "{tmp}/scored", "--out", "{tmp}/k", "--top", "0.5"],
     "cannot write d.parquet"),
    (["filter", "--corpus", "{shard}", "--scores", "{tmp}/scored", "--out", "{tmp}", "--top", "0.5"],
     "would overwrite the input shard"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, learner_folder, capsys, args, message):
    shard = write_jsonl(tmp_path / "a.jsonl", mixed_documents(4, 1))
    (tmp_path / "x").mkdir()
    write_jsonl(tmp_path / "x" / "a.jsonl", ["x"])
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    if "{tmp}/scored" in " ".join(args):
        assert run(capsys, "score", learner_folder, "--corpus", shard, "--out", tmp_path / "scored")[0] == 0
    filled = [a.format(tmp=tmp_path, shard=shard, learner=learner_folder) for a in args]
    code, _, err = run(capsys, *filled)
    assert code == 2
    said = [line for line in err.splitlines() if line.startswith("learnerhub:")]
    assert len(said) == 1 and message in said[0] and "Traceback" not in err


def test_a_killed_run_resumes_without_redoing_a_finished_shard(tmp_path, learner_folder, capsys):
    first = write_jsonl(tmp_path / "first.jsonl", mixed_documents(20, 1))
    third = write_jsonl(tmp_path / "third.jsonl", mixed_documents(20, 3))
    second = tmp_path / "second.jsonl"
    os.mkfifo(second)   # the second shard arrives slowly: the run is provably in flight on it when killed
    out = tmp_path / "scores"
    command = [sys.executable, "-m", "learnerhub.cli", "score", str(learner_folder), "--corpus", str(first),
               str(second), str(third), "--out", str(out), "--workers", "1", "--batch-size", "4"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    descriptor, deadline = None, time.monotonic() + 240
    while descriptor is None:   # the run opens the second shard only once the first is done
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        try:
            descriptor = os.open(second, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:   # ENXIO: no reader yet
            time.sleep(0.05)
    os.write(descriptor, (json.dumps({"text": "the lord said"}) + "\n").encode())
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    os.close(descriptor)
    finished = (out / "first.jsonl.scores.parquet").stat()
    assert (out / "first.jsonl.scores.json").exists() and not (out / "third.jsonl.scores.json").exists()
    assert not (out / "second.jsonl.scores.json").exists()
    second.unlink()
    write_jsonl(second, mixed_documents(20, 2))
    code, said, err = run(capsys, *command[3:])   # the rerun, in this process
    assert code == 0, err
    assert "Scored 2 shard(s) (40 documents" in said and "skipped 1" in said
    again = (out / "first.jsonl.scores.parquet").stat()
    assert (again.st_ino, again.st_mtime_ns) == (finished.st_ino, finished.st_mtime_ns)
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".parquet")) == [
        "first.jsonl.scores.parquet", "second.jsonl.scores.parquet", "third.jsonl.scores.parquet"]
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def test_workers_score_a_shard_each_and_a_damaged_one_fails_alone(tmp_path, learner, learner_folder, capsys):
    shards = [write_jsonl(tmp_path / f"s{i}.jsonl", mixed_documents(12, i)) for i in range(2)]
    broken = write_jsonl(tmp_path / "broken.jsonl", ["fine"])
    broken.write_text(broken.read_text() + "not json\n")
    code, out, err = run(capsys, "score", learner_folder, "--corpus", shards[0], broken, shards[1],
                         "--out", tmp_path / "s", "--workers", 2)
    assert code == 2 and "Scored 2 shard(s) (24 documents" in out
    assert [line for line in err.splitlines() if line.startswith("learnerhub:")] == [
        f"learnerhub: error: shard {broken} failed: {broken}:2 is not valid JSON (Expecting value). Each line of "
        'a JSONL corpus must be an object like {"text": "..."}.']
    for i, shard in enumerate(shards):
        scores = pq.read_table(tmp_path / "s" / f"{shard.name}.scores.parquet")["score"].to_numpy()
        assert np.allclose(scores, learner.score_texts(mixed_documents(12, i)))


def test_a_folder_of_text_files_and_a_parquet_dataset_are_shards_too(tmp_path, learner, learner_folder, capsys):
    import pyarrow as pa

    texts = mixed_documents(6, 8)
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    for i, text in enumerate(texts):
        (folder / ("sub" if i % 2 else "") / f"{i}.txt").write_text(text)
    dataset = tmp_path / "table.parquet"
    pq.write_table(pa.table({"id": [f"t{i}" for i in range(6)], "body": texts}), dataset)

    code, out, err = run(capsys, "score", learner_folder, "--corpus", folder, "--out", tmp_path / "s")
    assert code == 0, err
    code, out, err = run(capsys, "score", learner_folder, "--corpus", dataset, "--out", tmp_path / "s")
    assert code == 2 and "has no column 'text' (columns: id, body)" in err   # a damaged shard, named
    code, out, err = run(capsys, "score", learner_folder, "--corpus", dataset, "--out", tmp_path / "s",
                         "--text-field", "body")
    assert code == 0, err
    table = pq.read_table(tmp_path / "s" / "table.parquet.scores.parquet").to_pydict()
    assert table["id"] == [f"t{i}" for i in range(6)] and np.allclose(table["score"], learner.score_texts(texts))
    notes = pq.read_table(tmp_path / "s" / "notes.scores.parquet").to_pydict()
    order = sorted(range(6), key=lambda i: f"{'sub/' if i % 2 else ''}{i}.txt")   # files in sorted path order
    assert np.allclose(notes["score"], learner.score_texts([texts[i] for i in order]))

    code, out, err = run(capsys, "filter", "--corpus", folder, "--scores", tmp_path / "s", "--out", tmp_path / "kept",
                         "--threshold", 0.0)
    assert code == 0, err
    notes_out = tmp_path / "kept" / "notes"
    kept = sorted(p.relative_to(notes_out).as_posix() for p in notes_out.rglob("*.txt"))
    assert kept == sorted(doc_id for doc_id, score in zip(notes["id"], notes["score"]) if score >= 0.0)
    assert 0 < len(kept) < 6


def test_damaged_scores_are_one_line_and_exit_2(tmp_path, learner_folder, capsys):
    shard = write_jsonl(tmp_path / "a.jsonl", mixed_documents(4, 1))
    assert run(capsys, "score", learner_folder, "--corpus", shard, "--out", tmp_path / "s")[0] == 0
    scores = tmp_path / "s" / "a.jsonl.scores.parquet"
    scores.write_bytes(scores.read_bytes()[:-20])
    code, _, err = run(capsys, "filter", "--corpus", shard, "--scores", tmp_path / "s", "--out", tmp_path / "k",
                       "--top", 0.5)
    assert code == 2 and err.count("\n") == 1 and f"{scores} is damaged" in err and not (tmp_path / "k").exists()


def test_a_deeply_nested_line_fails_its_shard_in_one_line(tmp_path, learner_folder, capsys):
    """The scorer reads JSONL lines with the corpus loader's rules: a 100,000-deep line is that shard's error."""
    shard = write_jsonl(tmp_path / "deep.jsonl", ["fine"])
    shard.write_text(shard.read_text() + "[" * 100_000 + "]" * 100_000 + "\n")
    code, _, err = run(capsys, "score", learner_folder, "--corpus", shard, "--out", tmp_path / "s", "--workers", 1)
    assert code == 2 and f"{shard}:2 is nested too deeply to read as JSON" in err and "Traceback" not in err


def test_filter_at_the_default_threshold_reads_the_cut_scoring_recorded(tmp_path, learner, learner_folder, capsys):
    shard = write_jsonl(tmp_path / "a.jsonl", mixed_documents(30, 1), prefix="a")
    assert run(capsys, "score", learner_folder, "--corpus", shard, "--out", tmp_path / "scores")[0] == 0
    code, out, _ = run(capsys, "filter", "--corpus", shard, "--scores", tmp_path / "scores", "--out", tmp_path / "kept",
                       "--threshold", "default", "--json")
    said = json.loads(out)
    assert code == 0 and said["threshold"] == pytest.approx(learner.default_cut())
    scores = learner.score_texts(mixed_documents(30, 1))
    assert said["kept"] == int((scores >= learner.default_cut()).sum())   # all: a learner without target calibration
    code, _, _ = run(capsys, "score", learner_folder, "--corpus", shard, "--out", tmp_path / "gain", "--score", "gain")
    assert code == 0
    code, _, err = run(capsys, "filter", "--corpus", shard, "--scores", tmp_path / "gain", "--out", tmp_path / "k2",
                       "--threshold", "default")
    assert code == 2 and "carry no default threshold" in err and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["filter", "--corpus", "a.jsonl", "--scores", "s", "--out", "k", "--threshold", "dflt"],
     "'dflt' is neither a number nor `default` or `documents`"),
    (["score", "learner", "--corpus", "a.jsonl", "--out", "s", "--score", "affinity"], "invalid choice: 'affinity'"),
])
def test_a_misspelt_threshold_or_score_is_a_usage_error(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err
