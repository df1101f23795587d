"""The model card (README.md) of a published learner, rendered from `cards/` with huggingface_hub.

Its YAML metadata (library_name, base_model, datasets, tags, license, model-index) is what the Hub and
`list_models(filter=...)` search on, so it is built with `ModelCardData` / `EvalResult`, not by hand.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from cards import CARDS_DIR
from ..format.constants import LIBRARY_NAME, EVAL_PLOT
from ..format.effect_wording import effect_verdict
from ..format.evaluation_records import usable_records
from ..format.kinds import find_learner_kind, learner_kind
from ..format.metadata import LearnerMetadata
from .sections import cell, model_details, peer_effects, regime_limitations, training_data
from .headline import headline
from .usage import base_model_alias, usage_notes, usage_snippets

DEFAULT_LICENSE = "apache-2.0"
_BUILD_KEYS = ("probe", "pairs", "seed", "objective_size", "context_length", "epochs", "learning_rate")
_FINETUNE_TASK = ("text-generation", "Fine-tuning with the learner (igf / standard)")
#: The headline number of a learner: igf / standard test perplexity, median over paired seeds (lower is better).
RATIO_METRIC = "test_perplexity_ratio"



def learner_tags(kind: str, corpus_name: str) -> list[str]:
    """Tags `list` filters on: the library, the learner kind and the corpus."""
    return [LIBRARY_NAME, f"learner:{kind}", f"corpus:{corpus_name}", learner_kind(kind).method_tag]


def eval_results(metadata: LearnerMetadata) -> list[EvalResult]:
    """The model-index: each recorded fine-tuning evaluation (the perplexity ratio, its CI, per regime),
    and the learner's own quality on held-out pairs. Internal numbers stay in the build details."""
    corpus = metadata.corpus
    results = []
    for record in valid_evaluations(metadata):
        regime, effect = record["regime"], record["effect"]["final"]
        results.append(EvalResult(
            task_type=_FINETUNE_TASK[0], task_name=_FINETUNE_TASK[1], dataset_type=regime["target"]["name"],
            dataset_name=regime["target"]["name"], dataset_config=f"pool:{regime['pool']['name']}",
            dataset_split="test", metric_type=RATIO_METRIC, metric_name="test perplexity ratio (igf / standard)",
            metric_value=round(effect["median_ratio"], 4),
            metric_args={key: effect[key] for key in ("ci_low", "ci_high", "p_value", "seeds")} | {
                "lower_is_better": True, "evaluation": record.get("id")}))
    kind = learner_kind(metadata.kind)
    learner_task = kind.task
    for name in kind.quality_metrics:
        value = metadata.metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            results.append(EvalResult(task_type=learner_task[0], task_name=learner_task[1],
                                      dataset_type=corpus.dataset_id or corpus.name,
                                      dataset_name=corpus.name, dataset_split="test" if "test" in name else None,
                                      metric_type=name, metric_name=name.replace("_", " "), metric_value=value,
                                      metric_args={"lower_is_better": False}))
    return results


def valid_evaluations(metadata: LearnerMetadata) -> list[dict]:
    """Evaluation records with the fields a card needs (`cards.format.evaluation_records`: a usable effect, and the
    target and pool named); a malformed one is left out, not fatal."""
    return [raw for record, raw in usable_records(getattr(metadata, "evaluations", None)) if record.names()]


def effect_rows(metadata: LearnerMetadata) -> list[dict]:
    """One row per evaluation for the card's effect table (strings, ready to print)."""
    from ..format.effect_wording import describe_effect

    rows = []
    for record in reversed(valid_evaluations(metadata)):
        effect, protocol = record["effect"], record.get("protocol", {})
        model = record.get("base_model")
        rows.append({"target": record["regime"]["target"]["name"], "pool": record["regime"]["pool"]["name"],
                     "base_model": cell(str(model.get("model_id") or "?")) if isinstance(model, dict) else "?",
                     "final": describe_effect(effect["final"]),
                     "best": describe_effect(effect["best"]) if "best" in effect else "-",
                     "random": describe_effect(effect["vs_random_final"]) if "vs_random_final" in effect else "-",
                     "target_arm": describe_effect(effect["vs_target_final"]) if "vs_target_final" in effect else "-",
                     "acceptance": f"{record.get('acceptance_rate', float('nan')):.2f}",
                     "protocol": f"{protocol.get('steps', '?')} steps x {protocol.get('batch_size', '?')} contexts",
                     "date": str(record.get("date", ""))[:10]})
    return rows


#: The clean-pool control of the regime benchmark (R0: pool = target), quoted where a learner has no pool:
#: the default threshold on a learner without a pool (target:0.1) and the old top-half cut, against standard.
CLEAN_POOL_RATIO = "1.002, 95% CI 0.995-1.011, 10 seeds"
CLEAN_POOL_TOP_HALF_RATIO = "1.039, 95% CI 1.018-1.053"
CLEAN_POOL_SOURCE = "benchmarks/results/regimes_R3_R0.json, R0"


def card_warnings(metadata: LearnerMetadata) -> list[str]:
    """What a user must know before using this learner, in plain words, with what to do about it: the shared
    warnings, then the kind's own (`LearnerKind.card_warnings`); an unknown kind is said first."""
    kind = find_learner_kind(metadata.kind)
    warnings = [] if kind else [f"Its kind {metadata.kind!r} is unknown to this learnerhub: it cannot be loaded or "
                                "used here. Upgrade learnerhub, or install the package that registers the kind."]
    spearman = metadata.metrics.get("test_spearman")
    if isinstance(spearman, (int, float)) and spearman <= 0.05:
        warnings.append(f"Its held-out Spearman is {spearman:.2f}: it ranks unseen contexts no better than chance. "
                        "Do not filter with it; rebuild with more pairs (`--pairs 2000`) or the `bag_of_tokens` head.")
    records = valid_evaluations(metadata)
    measured_on_a_pool = any(not record["regime"].get("target_is_pool", True) for record in records)
    needs_evaluation = kind is not None and kind.needs_evaluation
    if needs_evaluation and not getattr(metadata, "pool", None) and not measured_on_a_pool:
        warnings.append("It was built on its target alone (no separate pool), so there is no off-target text for it "
                        "to find: on a clean pool the default threshold (target:0.1 for it) keeps about 90% and left "
                        f"fine-tuning unchanged in learnerhub's benchmark (ratio {CLEAN_POOL_RATIO}), while a top-half "
                        f"cut made it worse ({CLEAN_POOL_TOP_HALF_RATIO}; {CLEAN_POOL_SOURCE}). It pays on a pool "
                        "that mixes the target with other text: build the learner with `--target`.")
    if needs_evaluation and not records:
        warnings.append("No fine-tuning evaluation is recorded: its effect on fine-tuning is unmeasured. Measure it "
                        "with `learnerhub eval FOLDER --corpus POOL --target TARGET` before relying on it.")
    if records:
        record = records[-1]
        effect, regime = record["effect"]["final"], record["regime"]
        where = f"target {regime['target']['name']}, pool {regime['pool']['name']}"
        low, high = effect.get("ci_low"), effect.get("ci_high")
        if low is not None and low > 1:
            warnings.append(f"Fine-tuning with it was significantly worse than without it ({where}: ratio "
                            f"{effect['median_ratio']:.3f}, 95% CI {low:.3f}-{high:.3f}). Do not use it there.")
        elif low is None or high >= 1:
            warnings.append(f"Its effect on fine-tuning is not significant ({where}: ratio {effect['median_ratio']:.3f}"
                            + (f", 95% CI {low:.3f}-{high:.3f} includes 1" if low is not None else ", too few seeds")
                            + "). Selection pays where the pool holds text the target does not need: build and "
                              "evaluate it on such a pool (`--target`), or with more pairs.")
        random = record["effect"].get("vs_random_final")
        if random and random.get("median_ratio") is not None and random["median_ratio"] >= 1:
            warnings.append(f"It did not beat random filtering at its own acceptance rate ({where}: ratio "
                            f"{random['median_ratio']:.3f}): its ranking added nothing over drawing more candidates.")
        for peer, peer_effect in peer_effects(record["effect"]).items():
            if effect_verdict(peer_effect) == "worse":
                warnings.append(f"{peer[0].upper()}{peer[1:]} keeping as much of the same pool did better than it "
                                f"({where}: ratio {peer_effect['median_ratio']:.3f}): on that pool use the cheaper "
                                "selector, which needs no probe.")
    if kind is not None and kind.has("card_warnings"):   # what only this kind knows to warn of
        warnings += kind.behaviour("card_warnings")(metadata)
    return warnings


def render_card(metadata: LearnerMetadata, *, repo_id: str, version: str | None, plots: list[str] = (),
                parameters: int | None = None, head: str | None = None) -> ModelCard:
    """The card of `repo_id` at `version` (None: a built folder not yet published).

    `plots` are paths (relative to the folder) of images to show; `head` is config.json's head type.
    `datasets` names only real Hub dataset ids (a corpus's recorded `dataset_id`): a local corpus's name
    would link to a dataset that exists nowhere.
    """
    base, corpus, pool = metadata.base_model, metadata.corpus, metadata.pool
    pool_name = pool.name if pool else None
    model_id = base.model_id or base.name_or_path or "unknown"
    results = eval_results(metadata)
    dataset_ids = [info.dataset_id for info in (corpus, pool) if info is not None and info.dataset_id]
    kind = learner_kind(metadata.kind)   # an unknown kind cannot be published: a clear LearnerFormatError
    any_base_model = kind.any_base_model   # derived from no model: the Hub's base_model stays unset
    card_data = ModelCardData(
        library_name=LIBRARY_NAME, base_model=None if any_base_model else model_id,
        datasets=list(dict.fromkeys(dataset_ids)) or None,
        tags=learner_tags(metadata.kind, corpus.name) + ([f"pool:{pool_name}"] if pool_name else []),
        license=metadata.hyperparameters.get("license", DEFAULT_LICENSE),
        model_name=repo_id, eval_results=results or None)
    facts = {**(metadata.probe.to_dict() if metadata.probe else {}),
             **(metadata.run.to_dict() if metadata.run else {}), **metadata.hyperparameters}
    build_facts = [(key, facts[key]) for key in _BUILD_KEYS if key in facts]
    build_facts += [(key, value) for key, value in sorted(facts.items())
                    if key not in _BUILD_KEYS and isinstance(value, (str, int, float))]
    build_facts = [(key, cell(value)) for key, value in build_facts]
    internal = [(name, _format(value)) for name, value in sorted(metadata.metrics.items())
                if isinstance(value, (int, float)) and not isinstance(value, bool)]
    records = valid_evaluations(metadata)
    head_effect = headline({"evaluations": records})
    context_length = facts.get("context_length", 32)
    use = usage_snippets(corpus=corpus.name, base_model=model_id, kind=metadata.kind, version=version)
    template = CARDS_DIR / kind.card_template   # a file of `cards`, or a kind's own absolute path
    return ModelCard.from_template(
        card_data, template_path=str(template), repo_id=repo_id, version=version, kind=metadata.kind,
        base_model_id=model_id, base_model_revision=base.revision,
        base_model_alias=base_model_alias(model_id),
        corpus_name=corpus.name, corpus_fingerprint=str(corpus.fingerprint or "?")[:23],
        context_length=context_length, parameters=f"{parameters:,}" if parameters else "its",
        build_facts=build_facts, metric_rows=internal, effects=effect_rows(metadata), warnings=card_warnings(metadata),
        pool_name=pool_name, pool_fingerprint=str(pool.fingerprint or "?")[:23] if pool else "?",
        plots=sorted(plots, key=lambda p: (p != EVAL_PLOT, p)),
        labeller=metadata.labeller.to_dict() if metadata.labeller else None,
        evaluated_base_models=evaluated_base_models(metadata),
        learnerhub_version=metadata.learnerhub_version, created_at=metadata.created_at,
        headline=head_effect, install=use["install"], usage_python=use["python"], usage_cli=use["cli"],
        usage_notes=usage_notes(base_model=model_id, revision=base.revision, context_length=context_length),
        details=model_details(metadata, head=head, parameters=parameters), data_rows=training_data(metadata),
        regimes=regime_limitations(records))


def evaluated_base_models(metadata: LearnerMetadata) -> list[str]:
    """The base models the recorded evaluations fine-tuned, in the order first evaluated."""
    names = [str((record.get("base_model") or {}).get("model_id") or "unrecorded")
             for record in valid_evaluations(metadata) if isinstance(record.get("base_model", {}), dict)]
    return list(dict.fromkeys(names))


def _format(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_card(folder: Path, card: ModelCard) -> None:
    (folder / "README.md").write_text(str(card), encoding="utf-8")
