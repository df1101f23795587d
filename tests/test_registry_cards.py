"""The model card: YAML metadata that huggingface_hub parses, and prose that shows the learner's facts."""

from __future__ import annotations

import subprocess

from huggingface_hub import ModelCard
from registry_helpers import evaluation_record, isolated_learnerhub_home, make_learner_folder  # noqa: F401

from registry import publish


def test_card_metadata_parses_and_carries_base_model_datasets_and_model_index(tmp_path, tiny_gpt2, tokenizer):
    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer, model_id="HuggingFaceTB/SmolLM2-135M-"
                                 "Instruct", dataset_id="org/kjv-bible", plot=True,
                                 evaluations=[evaluation_record(0.93, (0.90, 0.95))])
    published = publish(source, version="1.0.0", store=tmp_path / "store")
    text = subprocess.run(["git", f"--git-dir={tmp_path / 'store/models' / published.repo_id}", "show",
                           "v1.0.0:README.md"], capture_output=True, text=True, check=True).stdout
    card = ModelCard(text)
    data = card.data
    assert data.library_name == "learnerhub"
    assert data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert data.datasets == ["org/kjv-bible"]
    assert {"learner:igf", "corpus:kjv"} <= set(data.tags)
    assert data.license == "apache-2.0"
    results = {r.metric_type: r for r in data.eval_results}
    assert set(results) == {"test_spearman", "test_perplexity_ratio"}   # internal numbers stay out of it
    assert results["test_spearman"].metric_value == 0.41
    ratio = results["test_perplexity_ratio"]
    assert ratio.metric_value == 0.93 and ratio.task_type == "text-generation"
    assert (ratio.metric_args["ci_low"], ratio.metric_args["ci_high"], ratio.metric_args["lower_is_better"]) == (
        0.90, 0.95, True)
    assert ratio.dataset_name == "kjv" and ratio.dataset_config == "pool:kjv+pydocs"
    assert results["test_spearman"].dataset_type == "org/kjv-bible"
    assert "ratio 0.930 [95% CI 0.900-0.950]" in card.text and "significantly better" in card.text
    # no raw HTML: the page escapes it
    assert "Numbers the build recorded" in card.text and "<details" not in card.text
    assert "| test mse |" not in card.text
    assert "| test_mse | 0.83 |" in card.text and "Warning" not in card.text
    assert card.data.model_name == published.repo_id
    assert "![assets/perplexity.png](assets/perplexity.png)" in card.text
    assert 'registry.pull("kjv", base_model="smollm2"' in card.text
    assert "| pairs | `64` |" in card.text and "| seed | `0` |" in card.text


def test_card_without_metrics_has_no_model_index(tmp_path, tiny_gpt2, tokenizer):
    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer, metrics={})
    published = publish(source, version="1.0.0", store=tmp_path / "store")
    text = subprocess.run(["git", f"--git-dir={tmp_path / 'store/models' / published.repo_id}", "show",
                           "main:README.md"], capture_output=True, text=True, check=True).stdout
    card = ModelCard(text)
    assert card.data.eval_results is None and "model-index" not in text
    assert "No fine-tuning evaluation is recorded" in card.text and "Numbers the build recorded" not in card.text


def test_card_warns_when_the_effect_is_not_significant_worse_than_random_or_the_ranking_is_negative(
        tmp_path, tiny_gpt2, tokenizer):
    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer,
                                 metrics={"test_spearman": -0.43, "calibration_contexts": 1024},
                                 evaluations=[evaluation_record(0.99, (0.96, 1.02), vs_random=1.01)])
    published = publish(source, version="1.0.0", store=tmp_path / "store")
    text = subprocess.run(["git", f"--git-dir={tmp_path / 'store/models' / published.repo_id}", "show",
                           "main:README.md"], capture_output=True, text=True, check=True).stdout
    assert "held-out Spearman is -0.43" in text
    assert "not significant (target kjv, pool kjv+pydocs: ratio 0.990, 95% CI 0.960-1.020 includes 1)" in text
    assert "did not beat random filtering" in text


def test_card_warns_when_a_learner_has_no_pool_apart_from_its_target(tmp_path, tiny_gpt2, tokenizer):
    from cards.format.metadata import LearnerMetadata
    from cards.model_card.render import card_warnings

    alone = LearnerMetadata.load(make_learner_folder(tmp_path / "alone", tiny_gpt2, tokenizer))
    assert any("built on its target alone" in w for w in card_warnings(alone))
    pooled = LearnerMetadata.load(make_learner_folder(tmp_path / "pooled", tiny_gpt2, tokenizer,
                                                      evaluations=[evaluation_record(0.91, (0.89, 0.93))]))
    assert not any("built on its target alone" in w for w in card_warnings(pooled))


def test_a_ci_below_one_at_three_seeds_is_not_called_significant():
    from cards.format.effect_wording import describe_effect

    few = {"median_ratio": 0.903, "ci_low": 0.902, "ci_high": 0.905, "p_value": 0.25, "seeds": 3}
    line = describe_effect(few)
    assert "significantly" not in line and "better (CI below 1), but too few seeds" in line
    assert describe_effect({**few, "p_value": 0.002, "seeds": 10}).endswith("10 paired seeds: significantly better")
    assert describe_effect({**few, "ci_high": 1.01}).endswith("not significant")


def test_the_effect_table_names_the_base_model_each_evaluation_fine_tuned(tmp_path, tiny_gpt2, tokenizer):
    from cards.format.metadata import LearnerMetadata
    from cards.model_card.render import effect_rows

    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer, evaluations=[
        {**evaluation_record(0.91, (0.88, 0.94)), "base_model": {"model_id": "tiny/gpt2"}},
        {**evaluation_record(0.93, (0.90, 0.97), pool="kjv+cmake"), "base_model": {"model_id": "other/llama"}},
        evaluation_record(0.95, (0.92, 0.98))])   # a record from before base models were recorded
    rows = effect_rows(LearnerMetadata.load(source))
    assert [(row["pool"], row["base_model"]) for row in rows] == [
        ("kjv+pydocs", "?"), ("kjv+cmake", "other/llama"), ("kjv+pydocs", "tiny/gpt2")]
    published = publish(source, version="1.0.0", store=tmp_path / "store")
    text = subprocess.run(["git", f"--git-dir={tmp_path / 'store/models' / published.repo_id}", "show",
                           "main:README.md"], capture_output=True, text=True, check=True).stdout
    assert "| kjv | kjv+cmake | other/llama | ratio 0.930 [95% CI 0.900-0.970]" in text
