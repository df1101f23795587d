"""Paired statistics of a filter's effect: the median ratio to a baseline, its bootstrap CI, a p-value.

Arms are run from the same weights with the same seed, so runs pair up by seed; the effect is the
per-seed ratio arm / baseline (below 1 = lower perplexity), summarised by its median, a percentile
bootstrap 95% confidence interval of that median (scipy.stats.bootstrap) and the two-sided
Wilcoxon signed-rank test of the log ratios against 0. Missing values are None (JSON has no NaN).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def paired_effect(arm: Sequence[float], baseline: Sequence[float], *, confidence: float = 0.95,
                  resamples: int = 9999) -> dict:
    """Summary of arm[i] / baseline[i] over seeds i (lists in seed order, equally long)."""
    if len(arm) != len(baseline):
        raise ValueError(f"Paired runs need as many arm values as baseline values ({len(arm)} vs {len(baseline)}).")
    ratios = np.asarray(arm, dtype=float) / np.asarray(baseline, dtype=float)
    summary = {"seeds": len(ratios), "median_ratio": float(np.median(ratios)) if len(ratios) else None,
               "ci_low": None, "ci_high": None, "p_value": None,
               "wins": int((ratios < 1).sum()), "ratios": [round(float(r), 5) for r in ratios]}
    if len(ratios) >= 3 and float(np.ptp(ratios)) > 0:
        from scipy.stats import bootstrap, wilcoxon

        interval = bootstrap((ratios,), np.median, confidence_level=confidence, n_resamples=resamples,
                             method="percentile", random_state=0).confidence_interval
        summary.update(ci_low=float(interval.low), ci_high=float(interval.high),
                       p_value=float(wilcoxon(np.log(ratios)).pvalue))
    return summary


def median_band(runs: Sequence[Sequence[float]], *, confidence: float = 0.95, resamples: int = 2000,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per position: the median over runs and a percentile-bootstrap CI of it (for plots' bands)."""
    values = np.asarray(runs, dtype=float)
    median = np.median(values, axis=0)
    if len(values) < 3:
        return median, values.min(axis=0), values.max(axis=0)
    picks = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    medians = np.median(values[picks], axis=1)
    tail = (1 - confidence) / 2 * 100
    return median, np.percentile(medians, tail, axis=0), np.percentile(medians, 100 - tail, axis=0)


#: The short verdicts of `effect_verdict`, best first: lists rank by this order, then by the ratio.
VERDICTS = ("better", "better, too few seeds", "not significant", "too few seeds", "worse, too few seeds", "worse")


def effect_verdict(effect: dict, *, lower_is_better: bool = True) -> str:
    """The verdict of one effect in a few words, for tables and listings (`describe_effect` says it in full).

    "better" / "worse" only when the CI excludes 1 and the Wilcoxon p (when known) is below 0.05; a CI that
    excludes 1 at too few seeds for p < 0.05 says so; no CI (under 3 seeds, or all ratios alike) is "too few seeds".
    """
    if effect.get("median_ratio") is None or effect.get("ci_low") is None or effect.get("ci_high") is None:
        return "too few seeds"
    if not (effect["ci_high"] < 1 or effect["ci_low"] > 1):
        return "not significant"
    direction = "better" if (effect["median_ratio"] < 1) == lower_is_better else "worse"
    p_value = effect.get("p_value")
    return f"{direction}, too few seeds" if p_value is not None and p_value >= 0.05 else direction


def describe_effect(effect: dict, *, lower_is_better: bool = True) -> str:
    """One line a user reads first: ratio, CI, p, and whether it is significant."""
    if effect["median_ratio"] is None:
        return "no paired runs"
    if effect["ci_low"] is None:
        return f"ratio {effect['median_ratio']:.3f} ({effect['seeds']} seeds: too few, or too alike, for a CI)"
    verdict = effect_verdict(effect, lower_is_better=lower_is_better)
    direction = verdict.split(",")[0]
    if verdict.endswith("too few seeds"):
        # The bootstrap CI of a few paired seeds can exclude 1 while the signed-rank test cannot reach p < 0.05
        # (3 seeds: p >= 0.25): say both, rather than call it significant.
        verdict = (f"{direction} (CI {'below' if effect['ci_high'] < 1 else 'above'} 1), but too few seeds to call it "
                   f"significant: 6 or more can reach p < 0.05")
    elif verdict != "not significant":
        verdict = f"significantly {direction}"
    p_value = "?" if effect.get("p_value") is None else f"{effect['p_value']:.3g}"
    return (f"ratio {effect['median_ratio']:.3f} [95% CI {effect['ci_low']:.3f}-{effect['ci_high']:.3f}], "
            f"p={p_value}, {effect['seeds']} paired seeds: {verdict}")
