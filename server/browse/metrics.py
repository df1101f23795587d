"""The numbers a version is ranked by: learner.json's numeric metrics plus the headline evaluation's
perplexity ratio (igf / standard), its confidence interval and its ratios to random selection and to the
peer selectors; and
which way each is better."""

from __future__ import annotations

from cards.model_card.headline import finite_number, headline_record

RATIO_METRIC = "perplexity_ratio"
#: Which way is better, said explicitly per metric: a name's substring says nothing (`calibration_contexts`
#: is a count, not a score). Metrics not listed have no direction and are shown, never ranked.
METRIC_DIRECTIONS = {
    "perplexity_ratio": "lower", "perplexity_ratio_ci_high": "lower", "perplexity_ratio_ci_width": "lower",
    "perplexity_ratio_vs_random": "lower", "perplexity_ratio_vs_dsir": "lower",
    "perplexity_ratio_vs_classifier": "lower", "test_perplexity_standard": "lower", "test_perplexity_igf": "lower",
    "test_mse": "lower", "validation_mse": "lower", "build_seconds": "lower", "probe_seconds": "lower",
    "test_spearman": "higher", "validation_spearman": "higher", "predictor_accuracy": "higher",
}


def lower_is_better(metric: str) -> bool:
    return METRIC_DIRECTIONS.get(metric) == "lower"


def is_score(metric: str) -> bool:
    """Whether a metric has a better direction at all (counts and hyperparameters have none)."""
    return metric in METRIC_DIRECTIONS


def numeric_metrics(learner: dict) -> dict[str, float]:
    """learner.json's numeric metrics, plus the headline evaluation: perplexity_ratio (igf / standard,
    median over paired seeds; below 1: the learner helps), its CI and CI width, and the ratios to random and to the
    peers (DSIR, a classifier) at the learner's rate when the evaluation ran them."""
    metrics = learner.get("metrics") if isinstance(learner.get("metrics"), dict) else {}
    found = {name: number for name, value in metrics.items() if (number := finite_number(value)) is not None}
    standard, igf = found.get("test_perplexity_standard"), found.get("test_perplexity_igf")
    if standard and igf is not None:
        found[RATIO_METRIC] = round(igf / standard, 6)
    record = headline_record(learner.get("evaluations"))
    if record is not None and record.effect is not None:
        effect, random = record.effect.final, record.effect.vs_random_final
        found[RATIO_METRIC] = round(effect.median_ratio, 6)
        if effect.ci_low is not None and effect.ci_high is not None:
            found.update(perplexity_ratio_ci_low=effect.ci_low, perplexity_ratio_ci_high=effect.ci_high,
                         perplexity_ratio_ci_width=round(effect.ci_high - effect.ci_low, 6))
        if random is not None:
            found["perplexity_ratio_vs_random"] = random.median_ratio
        for peer in ("dsir", "classifier"):   # `learnerhub eval --peers`: the selectors a user could pick instead
            if (against := getattr(record.effect, f"vs_{peer}_final")) is not None:
                found[f"perplexity_ratio_vs_{peer}"] = against.median_ratio
    return found
