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
    igf = record["arms"]["igf"]["final_perplexity"]
    for peer in ("dsir", "classifier"):
        effect = record["effect"][f"vs_{peer}_final"]
        assert effect["seeds"] == 3
        # The effect is igf over this peer, seed by seed (not over another arm).
        assert effect["ratios"] == [round(i / p, 5) for i, p in zip(igf, record["arms"][peer]["final_perplexity"])]
        # The peer filters (a candidate budget of 64 a draw makes a rate over 8 trained contexts small and noisy;
        # test_a_peer_keeps_its_rate_and_prefers_target_text measures the rate itself).
        assert all(0 < rate < 0.9 for rate in record["arms"][peer]["acceptance_rate"])
    assert record["protocol"]["peers"]["names"] == ["dsir", "classifier"]
    card = (folder / "README.md").read_text()
    assert "DSIR at the learner's rate" in card and "n-gram classifier at the learner's rate" in card


def contexts_of(tokenizer, texts: list[str], length: int = 16) -> torch.Tensor:
    return torch.tensor([ids[start:start + length] for ids in tokenizer(texts)["input_ids"]
                         for start in range(0, len(ids) - length + 1, length)])


def test_a_peer_keeps_its_rate_on_unseen_candidates_and_prefers_target_text(tokenizer):
    target = synthetic_documents(80, seed=11)
    off = synthetic_documents(80, seed=12, vocabulary=[w[::-1] for w in WORDS])
    fit_target, pool = target[:20], target[20:30] + off[:10]
    # The cut is placed on one sample of a half-target pool; the rate must carry over to another sample of it.
    calibration = torch.cat([contexts_of(tokenizer, target[30:50]), contexts_of(tokenizer, off[30:50])])
    own, other = contexts_of(tokenizer, target[50:80]), contexts_of(tokenizer, off[50:80])
    candidates = torch.cat([own, other])
    is_target = torch.arange(len(candidates)) < len(own)
    for scorer in (fit_dsir(fit_target, pool), fit_classifier(fit_target, pool)):
        peer = PeerFilter.at_rate("peer", scorer, tokenizer, calibration, rate=0.4)
        kept = peer.select_before_forward(candidates, step=0)
        assert np.isfinite(peer.cut) and abs(kept.float().mean().item() - 0.4) <= 0.1
        assert kept[is_target].float().mean() > kept[~is_target].float().mean() + 0.5


def test_the_card_words_each_verdict_against_a_peer_and_warns_when_a_peer_did_better():
    from cards.model_card.sections import peer_words

    def effect(ratio, low, high, p):
        return {"median_ratio": ratio, "ci_low": low, "ci_high": high, "p_value": p, "seeds": 10}

    final = effect(0.9, 0.88, 0.92, 0.002)
    assert "behind DSIR at the learner's rate (1.200): the cheaper selector" in peer_words(
        {"final": final, "vs_dsir_final": effect(1.2, 1.19, 1.21, 0.002)})
    assert "probably behind DSIR" in peer_words({"final": final, "vs_dsir_final": effect(1.2, 1.19, 1.21, 0.25)})
    assert "ahead of DSIR" in peer_words({"final": final, "vs_dsir_final": effect(0.97, 0.96, 0.98, 0.002)})
    assert "level with a hashed word n-gram classifier" in peer_words(
        {"final": final, "vs_classifier_final": effect(0.998, 0.99, 1.003, 0.3)})
    assert "too few seeds to compare with DSIR" in peer_words(
        {"final": final, "vs_dsir_final": {"median_ratio": 1.0, "seeds": 2}})
    # A malformed entry is left out; it never breaks the card.
    assert peer_words({"final": final, "vs_dsir_final": "x"}) == ""
    assert peer_words({"final": final, "vs_dsir_final": {"median_ratio": 1.0, "ci_low": "a", "ci_high": 2}}) \
        in ("", "; too few seeds to compare with DSIR at the learner's rate (1.000)")


def test_peers_are_checked_before_any_model_is_loaded(tmp_path, documents):
    target = write(tmp_path / "bible.jsonl", documents)
    # The last case runs as if data-selection were not installed (a None entry in sys.modules hides a package).
    for extra, said, hide in ((["--target", str(target), "--peers", "rho"], "unknown selector 'rho'", False),
                              (["--peers", "dsir"], "--peers needs --target", False),
                              (["--target", "", "--peers", "classifier"], "--peers needs --target", False),
                              (["--target", str(target), "--peers", "dsir"], "pip install 'learnerhub[peers]'", True)):
        args = ["eval", str(tmp_path / "nothing"), "--corpus", str(target), "--base-model", str(tmp_path / "no"),
                *extra]
        code = (f"import sys; sys.modules['data_selection'] = None if {hide!r} else sys.modules.get('data_selection'); "
                f"from learnerhub.cli.main import main; sys.exit(main({args!r}))")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_published_card_warns_when_a_peer_did_better(tmp_path, tiny_gpt2, tokenizer):
    from registry import publish
    from registry_helpers import evaluation_record, make_learner_folder

    record = evaluation_record(0.91, (0.89, 0.93), seeds=10)
    record["effect"]["vs_dsir_final"] = {"seeds": 10, "median_ratio": 1.04, "ci_low": 1.02, "ci_high": 1.06,
                                         "p_value": 0.002, "wins": 0}
    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer, evaluations=[record])
    published = publish(source, version="1.0.0", store=tmp_path / "store")
    card = subprocess.run(["git", f"--git-dir={tmp_path / 'store/models' / published.repo_id}", "show",
                           "main:README.md"], capture_output=True, text=True, check=True).stdout
    assert "DSIR keeping as much of the same pool did better than it (target kjv, pool kjv+pydocs: ratio 1.040)" in card
    assert "behind DSIR at the learner's rate (1.040): the cheaper selector does better on this pool" in card


def test_the_registry_ranks_by_the_ratio_to_each_peer():
    from registry_helpers import evaluation_record

    from server.browse.metrics import lower_is_better, numeric_metrics

    record = evaluation_record(0.91, (0.89, 0.93), seeds=10)
    record["effect"]["vs_dsir_final"] = {"seeds": 10, "median_ratio": 0.996, "ci_low": 0.99, "ci_high": 1.003}
    metrics = numeric_metrics({"metrics": {}, "evaluations": [record]})
    assert metrics["perplexity_ratio_vs_dsir"] == 0.996 and "perplexity_ratio_vs_classifier" not in metrics
    assert lower_is_better("perplexity_ratio_vs_dsir") and lower_is_better("perplexity_ratio_vs_classifier")
