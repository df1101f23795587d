"""Long work is observable (issue 22, item 5): `build` names its stage from the start, and `eval` and `finetune`
count every optimizer step of every run on stderr, with tqdm's estimate of the time left, while `--json` on
stdout stays parseable.

The commands run as a user runs them (a subprocess, stderr not a terminal) on the tiny test model. tqdm redraws
at most every 0.1 s by default, faster than these tiny steps, so TQDM_MININTERVAL=0 (tqdm's own setting) makes it
draw every update: what a user sees with a real model, whose steps take longer than that.
"""

import json
import os
import re
import subprocess
import sys

from model_helpers import WORDS, synthetic_documents

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]
#: A tqdm status: `n/total [elapsed<remaining, rate]`, e.g. `7/24 [00:01<00:03, 5.10step/s]`.
STATUS = re.compile(r"(\d+)/(\d+) \[\d+:\d\d<(\d+:\d\d|\?), ")


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "learnerhub.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "TQDM_MININTERVAL": "0"}, timeout=600)


def write(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def statuses(stderr: str, description: str) -> list[tuple[int, int, str]]:
    """(done, total, time left) of every redraw of the bar described as `description`."""
    found = []
    for update in re.split(r"[\r\n]", stderr):
        match = STATUS.search(update)
        if description in update and match:
            found.append((int(match.group(1)), int(match.group(2)), match.group(3)))
    return found


def test_build_names_its_stage_from_the_start_then_counts_probed_pairs(tmp_path, tiny_model_folder, jsonl_corpus):
    result = run_cli("build", "--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder),
                     "--out", str(tmp_path / "learner"), "--pairs", "40", "--probe-batch-size", "8", *TINY)
    assert result.returncode == 0, result.stderr
    lines = [line for line in re.split(r"[\r\n]", result.stderr) if line.strip()]
    assert lines[0] == f"learnerhub: reading corpus {jsonl_corpus}"     # before torch is even imported
    stages = [line for line in lines if line.startswith("learnerhub: ") and "warning" not in line]
    assert [s.split()[1] for s in stages] == ["reading", "loading", "tokenizing", "preparing", "training",
                                              "calibrating"]
    assert "tokenizing corpus 'tiny-corpus' (" in stages[2] and "documents) into contexts of 16 tokens" in stages[2]
    assert "probing 40 pairs" in stages[3]
    probed = statuses(result.stderr, "probing information gain (fast)")
    assert sorted({done for done, _, _ in probed}) == [0, 8, 16, 24, 32, 40]   # a tick per batch, counted in pairs
    assert all(total == 40 for _, total, _ in probed) and any(left != "?" for _, _, left in probed)
    first_bar = min(i for i, line in enumerate(lines) if "probing information gain" in line)
    assert first_bar > lines.index(stages[3])


def test_eval_counts_every_step_of_every_run_with_the_time_left_and_keeps_json_clean(tmp_path, tiny_model_folder,
                                                                                   documents):
    target = write(tmp_path / "bible.jsonl", documents)
    off = write(tmp_path / "code.jsonl", synthetic_documents(40, seed=5, vocabulary=[w[::-1] for w in WORDS]))
    common = ["--corpus", str(target), str(off), "--target", str(target), "--base-model", str(tiny_model_folder), *TINY]
    assert run_cli("build", *common, "--out", str(tmp_path / "learner"), "--pairs", "40",
                   "--head", "bag_of_tokens").returncode == 0
    result = run_cli("eval", str(tmp_path / "learner"), *common, "--seeds", "2", "--steps", "3", "--batch-size", "4",
                     "--eval-every", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["protocol"]["steps"] == 3     # stdout holds the record alone
    seen = statuses(result.stderr, "evaluating learner")
    assert {total for _, total, _ in seen} == {2 * 4 * 3}      # seeds x 4 arms (standard, igf, target, random) x steps
    done = sorted({n for n, _, _ in seen})
    assert done == list(range(0, 25))                               # every step of every run, not once per run
    assert any(left not in ("?", "00:00") for _, _, left in seen)   # tqdm's estimate of the time left
    assert "seed 2/2" in result.stderr and "random" in result.stderr  # which seed and which arm is running


def test_finetune_counts_every_arm_in_one_bar(tmp_path, tiny_model_folder, jsonl_corpus):
    result = run_cli("finetune", "--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder),
                     "--steps", "4", "--batch-size", "4", "--eval-every", "2", "--streaming", "--json", *TINY)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["results"]) == {"standard", "streaming"}
    seen = statuses(result.stderr, "fine-tuning")
    assert {total for _, total, _ in seen} == {8} and sorted({n for n, _, _ in seen}) == list(range(0, 9))
    assert result.stderr.index("learnerhub: loading base model") < result.stderr.index("fine-tuning")
