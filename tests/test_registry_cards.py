"""The model card: YAML metadata that huggingface_hub parses, and prose that shows the learner's facts."""

from __future__ import annotations

import subprocess

from huggingface_hub import ModelCard
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

from registry import publish


def test_card_metadata_parses_and_carries_base_model_datasets_and_model_index(tmp_path, tiny_gpt2, tokenizer):
    source = make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer, model_id="HuggingFaceTB/SmolLM2-135M-"
                                 "Instruct", dataset_id="org/kjv-bible", plot=True)
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
    assert results["test_spearman"].metric_value == 0.41
    assert results["test_perplexity_igf"].metric_value == 30.1
    assert results["test_perplexity_standard"].task_type == "text-generation"
    assert results["test_spearman"].dataset_type == "org/kjv-bible"
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
    assert "## Evaluation" not in card.text
