"""The model card (README.md) of a published learner, rendered from `cards/` with huggingface_hub.

Its YAML metadata (library_name, base_model, datasets, tags, license, model-index) is what the Hub and
`list_models(filter=...)` search on, so it is built with `ModelCardData` / `EvalResult`, not by hand.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from cards import CARDS_DIR
from learners.constants import LIBRARY_NAME, SMOLLM2_ALIAS, SMOLLM2_MODEL_ID
from learners.metadata import LearnerMetadata

TEMPLATES = {"igf": CARDS_DIR / "igf_learner.md", "streaming": CARDS_DIR / "streaming_learner.md"}
DEFAULT_LICENSE = "apache-2.0"
_BUILD_KEYS = ("probe", "pairs", "seed", "objective_size", "context_length", "epochs", "learning_rate")
#: Metric name -> (task type, task name) of the model-index: learner quality vs. fine-tuning benchmark.
_LEARNER_TASKS = {"igf": ("information-gain-prediction", "Information gain prediction"),
                  "streaming": ("loss-threshold-prediction", "Meta predictor (loss above threshold)")}
_METHOD_TAGS = {"igf": "information-gain-filtration", "streaming": "multistage-data-filtering"}
_FINETUNE_TASK = ("text-generation", "Fine-tuning (IGF vs standard)")


def learner_tags(kind: str, corpus_name: str) -> list[str]:
    """Tags `list` filters on: the library, the learner kind and the corpus."""
    return [LIBRARY_NAME, f"learner:{kind}", f"corpus:{corpus_name}", _METHOD_TAGS.get(kind, _METHOD_TAGS["igf"])]


def eval_results(metadata: LearnerMetadata) -> list[EvalResult]:
    """One EvalResult per numeric metric in learner.json (perplexities are the fine-tuning benchmark)."""
    corpus = metadata.corpus
    results = []
    for name, value in sorted(metadata.metrics.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        learner_task = _LEARNER_TASKS.get(metadata.kind, _LEARNER_TASKS["igf"])
        task_type, task_name = _FINETUNE_TASK if "perplexity" in name else learner_task
        results.append(EvalResult(task_type=task_type, task_name=task_name,
                                  dataset_type=corpus.get("dataset_id") or corpus["name"],
                                  dataset_name=corpus["name"], dataset_split="test" if "test" in name else None,
                                  metric_type=name, metric_name=name.replace("_", " "), metric_value=value))
    return results


def render_card(metadata: LearnerMetadata, *, repo_id: str, version: str | None, plots: list[str] = (),
                parameters: int | None = None) -> ModelCard:
    """The card of `repo_id` at `version` (None: a built folder not yet published).

    `plots` are paths (relative to the folder) of images to show.
    """
    base = metadata.base_model
    corpus = metadata.corpus
    model_id = base.get("model_id") or base.get("name_or_path") or "unknown"
    results = eval_results(metadata)
    card_data = ModelCardData(
        library_name=LIBRARY_NAME, base_model=model_id, datasets=[corpus.get("dataset_id") or corpus["name"]],
        tags=learner_tags(metadata.kind, corpus["name"]),
        license=metadata.hyperparameters.get("license", DEFAULT_LICENSE),
        model_name=repo_id, eval_results=results or None)
    facts = {**metadata.probe, **metadata.hyperparameters}
    build_facts = [(key, facts[key]) for key in _BUILD_KEYS if key in facts]
    build_facts += [(key, value) for key, value in sorted(facts.items())
                    if key not in _BUILD_KEYS and isinstance(value, (str, int, float))]
    template = TEMPLATES.get(metadata.kind, TEMPLATES["igf"])
    return ModelCard.from_template(
        card_data, template_path=str(template), repo_id=repo_id, version=version, kind=metadata.kind,
        base_model_id=model_id, base_model_revision=base.get("revision"),
        base_model_alias=SMOLLM2_ALIAS if model_id == SMOLLM2_MODEL_ID else model_id,
        corpus_name=corpus["name"], corpus_fingerprint=str(corpus.get("fingerprint", "?"))[:23],
        context_length=facts.get("context_length", 32), parameters=f"{parameters:,}" if parameters else "its",
        build_facts=build_facts, metric_rows=[(r.metric_name, _format(r.metric_value)) for r in results],
        plots=list(plots), learnerhub_version=metadata.learnerhub_version, created_at=metadata.created_at)


def _format(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_card(folder: Path, card: ModelCard) -> None:
    (folder / "README.md").write_text(str(card), encoding="utf-8")
