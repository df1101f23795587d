"""Paired statistics of a filter's effect: the median ratio to a baseline, its bootstrap CI, a p-value.

Arms are run from the same weights with the same seed, so runs pair up by seed; the effect is the
per-seed ratio arm / baseline (below 1 = lower perplexity), summarised by its median, a percentile
bootstrap 95% confidence interval of that median (scipy.stats.bootstrap) and the two-sided
Wilcoxon signed-rank test of the log ratios against 0. Missing values are None (JSON has no NaN).
"""

from __future__ import annotations

from typing import Sequence

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


def describe_effect(effect: dict, *, lower_is_better: bool = True) -> str:
    """One line a user reads first: ratio, CI, p, and whether it is significant."""
    if effect["median_ratio"] is None:
        return "no paired runs"
    if effect["ci_low"] is None:
        return f"ratio {effect['median_ratio']:.3f} ({effect['seeds']} seeds: too few, or too alike, for a CI)"
    outside = effect["ci_high"] < 1 or effect["ci_low"] > 1
    direction = ("better" if (effect["median_ratio"] < 1) == lower_is_better else "worse") if outside else ""
    p_value = effect.get("p_value")
    if outside and p_value is not None and p_value >= 0.05:
        # The bootstrap CI of a few paired seeds can exclude 1 while the signed-rank test cannot reach p < 0.05
        # (3 seeds: p >= 0.25): say both, rather than call it significant.
        verdict = (f"{direction} (CI {'below' if effect['ci_high'] < 1 else 'above'} 1), but too few seeds to call it "
                   f"significant: 6 or more can reach p < 0.05")
    else:
        verdict = f"significantly {direction}" if outside else "not significant"
    return (f"ratio {effect['median_ratio']:.3f} [95% CI {effect['ci_low']:.3f}-{effect['ci_high']:.3f}], "
            f"p={effect['p_value']:.3g}, {effect['seeds']} paired seeds: {verdict}")
