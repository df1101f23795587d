"""`learnerhub eval --peers`: DSIR and a target-vs-pool classifier run beside the learner at its own rate, on the
same candidates, and the record, the printout and the card say how the learner fared against them."""

import json
import subprocess
import sys

import numpy as np
import torch
from model_helpers import WORDS, synthetic_documents
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

from learnerhub.cli.main import main
from learners.finetuning.evaluation.peer_selectors import PeerFilter, fit_classifier, fit_dsir

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]
RUN = ["--seeds", "3", "--steps", "2", "--batch-size", "4", "--eval-every", "1"]


def write(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def off_target_documents() -> list[str]:
    return synthetic_documents(40, seed=5, vocabulary=[w[::-1] for w in WORDS])


def test_eval_runs_the_peers_at_the_learners_rate_and_the_card_names_them(tmp_path, tiny_model_folder, documents,
                                                                          capsys):
    target = write(tmp_path / "bible.jsonl", documents)
    off = write(tmp_path / "code.jsonl", off_target_documents())
    folder = tmp_path / "learner"
    common = ["--corpus", str(target), str(off), "--target", str(target), "--base-model", str(tiny_model_folder), *TINY]
    assert main(["build", *common, "--out", str(folder), "--pairs", "40", "--head", "bag_of_tokens"]) == 0
    capsys.readouterr()
    assert main(["eval", str(folder), *common, *RUN, "--no-target-arm", "--peers", "dsir,classifier"]) == 0
    printed = capsys.readouterr().out
    assert "igf / DSIR at its rate:" in printed and "igf / classifier at its rate:" in printed
    record = json.loads((folder / "learner.json").read_text())["evaluations"][0]
    assert set(record["arms"]) == {"standard", "igf", "random", "dsir", "classifier"}
    for peer in ("dsir", "classifier"):
        assert record["effect"][f"vs_{peer}_final"]["seeds"] == 3
        # Paired: the same seed draws the same candidates, so every peer trains as many contexts as the others.
        assert record["arms"][peer]["backward_contexts"] == record["arms"]["standard"]["backward_contexts"]
        # The peer filters (a candidate budget of 64 a draw makes a rate over 8 trained contexts small and noisy;
        # test_a_peer_keeps_its_rate_and_prefers_target_text measures the rate itself).
        assert all(0 < rate < 0.9 for rate in record["arms"][peer]["acceptance_rate"])
    card = (folder / "README.md").read_text()
    assert "DSIR at its rate" in card and "classifier at its rate" in card


def test_a_peer_keeps_its_rate_and_prefers_target_text(tokenizer, documents):
    target = [d[:200] for d in documents[:40]]
    off = [d[:200] for d in off_target_documents()]
    pool = target[::2] + off[::2]
    contexts = torch.tensor([ids[:16] for ids in tokenizer(target[1::2] + off[1::2])["input_ids"]
                             if len(ids) >= 16])
    is_target = torch.arange(len(contexts)) < sum(len(ids) >= 16 for ids in tokenizer(target[1::2])["input_ids"])
    for scorer in (fit_dsir(target[::2], pool), fit_classifier(target[::2], pool)):
        peer = PeerFilter.at_rate("peer", scorer, tokenizer, contexts, rate=0.5)
        kept = peer.select_before_forward(contexts, step=0)
        assert abs(kept.float().mean().item() - 0.5) <= 0.1
        assert kept[is_target].float().mean() > kept[~is_target].float().mean() + 0.5
        assert np.isfinite(peer.cut)


def test_peers_are_checked_before_any_model_is_loaded(tmp_path, documents):
    target = write(tmp_path / "bible.jsonl", documents)
    for extra, said in ((["--target", str(target), "--peers", "rho"], "unknown selector 'rho'"),
                        (["--peers", "dsir"], "--peers needs --target")):
        result = subprocess.run([sys.executable, "-m", "learnerhub.cli", "eval", str(tmp_path / "nothing"),
                                 "--corpus", str(target), "--base-model", str(tmp_path / "no-model"), *extra],
                                capture_output=True, text=True)
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
