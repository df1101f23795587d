"""`learnerhub info` and `learnerhub list` lead with the headline evaluation (ratio, 95% CI, p, seeds, verdict),
as text and as JSON, so the command line says which learners help without opening a page."""

from __future__ import annotations

import json

import pytest
from registry_helpers import evaluation_record, isolated_learnerhub_home, make_learner_folder  # noqa: F401

import registry
from learnerhub.cli.main import main


@pytest.fixture()
def store(tmp_path, tiny_gpt2, tokenizer):
    """good: significantly better and beats random; bad: not significant and loses to random; plain: unevaluated."""
    learners = {"good": [evaluation_record(0.914, (0.897, 0.933), vs_random=0.95, seeds=10)],
                "bad": [evaluation_record(1.011, (0.99, 1.03), vs_random=1.02)], "plain": []}
    for seed, (org, evaluations) in enumerate(learners.items()):
        folder = make_learner_folder(tmp_path / org, tiny_gpt2, tokenizer, seed=seed, evaluations=evaluations)
        registry.publish(folder, version="1.0.0", org=org, store=tmp_path / "store")
    return str(tmp_path / "store")


def test_info_prints_the_effect_line_and_json_carries_it(store, capsys):
    assert main(["info", "good/igf-gpt2-kjv", "--store", store]) == 0
    out = capsys.readouterr().out
    assert ("effect (target kjv, pool kjv+pydocs): igf / standard test perplexity ratio 0.914 [95% CI 0.897-0.933], "
            "p=0.01, 10 paired seeds: significantly better") in out
    assert "vs random at its rate 0.50: ratio 0.950\n" in out
    assert out.index("effect (") < out.index("build metrics")   # the effect before the build's numbers

    assert main(["info", "bad/igf-gpt2-kjv", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "ratio 1.011 [95% CI 0.990-1.030]" in out and ": not significant" in out
    assert "ratio 1.020: loses to random" in out

    assert main(["info", "plain/igf-gpt2-kjv", "--store", store]) == 0
    assert "effect: not evaluated" in capsys.readouterr().out

    assert main(["info", "good/igf-gpt2-kjv", "--store", store, "--json"]) == 0
    head = json.loads(capsys.readouterr().out)["headline"]
    assert (head["ratio"], head["ci_low"], head["ci_high"], head["seeds"], head["p_value"]) == (
        0.914, 0.897, 0.933, 10, 0.01)
    assert head["verdict"] == "better" and head["loses_to_random"] is False and head["target"] == "kjv"


def test_list_has_an_effect_column_and_json_lines_carry_the_headline(store, capsys):
    assert main(["list", "--store", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "EFFECT (ratio [95% CI], p, seeds)" in lines[0]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["good/igf-gpt2-kjv"].endswith("0.914 [0.897-0.933] p=0.01 10 seeds: better")
    assert rows["bad/igf-gpt2-kjv"].endswith("1.011 [0.990-1.030] p=0.01 5 seeds: not significant, loses to random")
    assert rows["plain/igf-gpt2-kjv"].endswith("not evaluated")

    assert main(["list", "--store", store, "--json"]) == 0
    listed = {item["repo_id"]: item for item in map(json.loads, capsys.readouterr().out.splitlines())}
    assert listed["plain/igf-gpt2-kjv"]["headline"] is None
    assert listed["bad/igf-gpt2-kjv"]["headline"]["words"] == "not significant, loses to random"
    assert listed["good/igf-gpt2-kjv"]["headline"]["ratio_with_ci"] == "0.914 [0.897-0.933]"
