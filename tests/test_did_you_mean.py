""""Did you mean" wherever a name is typed (issue 22, item 5): list filters, info, load_learner, the choices of
build and pull, the base model, the corpus, the threshold form and the learner argument. Every miss is one line
(exit 2 from the command line) that offers the near name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main
from cards.format.errors import LearnerFormatError
from learners.igf.thresholds import parse_threshold
from learners.loading import load_learner
from cards.suggestions import did_you_mean, did_you_mean_path
from registry.errors import LearnerNotFoundError

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]


@pytest.fixture()
def store(tmp_path, tiny_gpt2, tokenizer) -> str:
    """A store holding local/igf-gpt2-kjv (corpus kjv, base model tiny/gpt2), also kept as folder `igf-kjv`."""
    folder = make_learner_folder(tmp_path / "igf-kjv", tiny_gpt2, tokenizer, corpus="kjv")
    registry.publish(folder, version="1.0.0", store=tmp_path / "store")
    return str(tmp_path / "store")


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("learnerhub: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_the_one_wording():
    assert did_you_mean("kvj", ["kjv", "pydocs"]) == " Did you mean 'kjv'?"
    assert did_you_mean("KVJ", ["kjv"]) == " Did you mean 'kjv'?"          # case does not hide a match
    assert did_you_mean("igf_txt", ["igf", "igf_text"]) == " Did you mean 'igf_text' or 'igf'?"
    assert did_you_mean("zzz", ["kjv"]) == ""


def test_list_says_which_filter_matched_nothing_and_what_is_near(store, capsys):
    assert main(["list", "--corpus", "kvj", "--store", store]) == 0
    captured = capsys.readouterr()
    assert "(no learners match)" in captured.out
    assert "learnerhub: no learner has --corpus 'kvj'. Did you mean 'kjv'?" in captured.err
    assert main(["list", "--kind", "igff", "--base-model", "tiny/gtp2", "--store", store, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""                                            # --json stays machine-readable
    assert "--kind 'igff'. Did you mean 'igf'?" in captured.err
    assert "--base-model 'tiny/gtp2'. Did you mean 'tiny/gpt2'?" in captured.err
    assert main(["list", "--corpus", "kv*", "--store", store]) == 0      # a pattern is taken as meant
    assert "Did you mean" not in capsys.readouterr().err


def test_info_and_lifecycle_commands_name_the_near_repository(store, capsys):
    assert main(["info", "local/igf-gpt2-kvj", "--store", store]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "has no learner 'local/igf-gpt2-kvj'. Did you mean 'local/igf-gpt2-kjv'?" in line
    assert main(["yank", "local/igf-gpt2-kvj@1.0.0", "--reason", "x", "--store", store]) == 2
    assert "Did you mean 'local/igf-gpt2-kjv'?" in one_error_line(capsys.readouterr().err)


def test_load_learner_names_the_near_repository_or_folder(store, tmp_path, tiny_gpt2, tokenizer):
    with pytest.raises(LearnerNotFoundError, match=r"Did you mean 'local/igf-gpt2-kjv'\?"):
        load_learner("local/igf-gpt2-kvj@1.0.0", tiny_gpt2, tokenizer, store=store)
    with pytest.raises(LearnerFormatError, match=r"no learner folder .*igf-kvj'\. Did you mean '.*igf-kjv'\?"):
        load_learner(str(tmp_path / "igf-kvj"), tiny_gpt2, tokenizer)
    assert did_you_mean_path(tmp_path / "nothing-like-it") == ""


@pytest.mark.parametrize("args, message", [
    (["build", "--kind", "igff", "--out", "x"], "argument --kind: invalid choice 'igff'. Did you mean 'igf'? "
                                                "Choose from igf, igf_text, streaming."),
    (["build", "--head", "cnov", "--out", "x"], "argument --head: invalid choice 'cnov'. Did you mean 'conv'?"),
    (["build", "--probe", "fats", "--out", "x"], "argument --probe: invalid choice 'fats'. Did you mean 'fast'?"),
    (["build", "--predictor", "hashed_logistc", "--out", "x"], "Did you mean 'hashed_logistic'?"),
    (["pull", "kjv", "--kind", "streeming"], "argument --kind: invalid choice 'streeming'. Did you mean 'streaming'?"),
])
def test_a_mistyped_choice_is_one_line_with_the_near_choice_and_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len([line for line in err.splitlines() if "error:" in line]) == 1


def test_a_mistyped_threshold_form_names_the_near_form(capsys):
    with pytest.raises(ValueError, match=r"Bad threshold 'tpo:0.5'\. Did you mean 'top'\?"):
        parse_threshold("tpo:0.5")
    assert main(["finetune", "--threshold", "shiftng", "--steps", "1"]) == 2
    assert "Bad threshold 'shiftng'. Did you mean 'shifting'?" in one_error_line(capsys.readouterr().err)


def test_corpus_base_model_and_learner_arguments_name_the_near_name(tmp_path, tiny_model_folder, jsonl_corpus,
                                                                    store, capsys):
    misspelt = str(jsonl_corpus).replace(".jsonl", ".jsnl")
    assert main(["finetune", "--corpus", misspelt, "--steps", "1"]) == 2
    assert f"Corpus {misspelt!r} does not exist. Did you mean {str(jsonl_corpus)!r}?" in one_error_line(
        capsys.readouterr().err)
    folder_typo = str(tiny_model_folder).replace("tiny-gpt2", "tiny-gtp2")
    assert main(["finetune", "--corpus", str(jsonl_corpus), "--base-model", folder_typo, "--steps", "1"]) == 2
    assert f"Did you mean {str(tiny_model_folder)!r}?" in one_error_line(capsys.readouterr().err)
    common = ["--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder), *TINY]
    assert main(["finetune", *common, "--learner", "atuo", "--steps", "1"]) == 2
    assert "There is no learner folder 'atuo'. Did you mean 'auto'?" in one_error_line(capsys.readouterr().err)
    assert main(["eval", str(tmp_path / "igf-kvj"), *common]) == 2
    assert f"Did you mean {str(tmp_path / 'igf-kjv')!r}?" in one_error_line(capsys.readouterr().err)


def test_the_bundled_model_alias_is_offered_for_a_near_miss(jsonl_corpus):
    result = subprocess.run([sys.executable, "-m", "learnerhub.cli", "finetune", "--corpus", str(jsonl_corpus),
                             "--base-model", "smolm2", "--steps", "1"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2
    assert "Cannot load base model 'smolm2'. Did you mean 'smollm2'?" in one_error_line(result.stderr)
