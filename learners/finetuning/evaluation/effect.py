"""Paired statistics of a filter's effect: the median ratio to a baseline, its bootstrap CI, a p-value.

Arms are run from the same weights with the same seed, so runs pair up by seed; the effect is the
per-seed ratio arm / baseline (below 1 = lower perplexity), summarised by its median, a percentile
bootstrap 95% confidence interval of that median (scipy.stats.bootstrap) and the two-sided
Wilcoxon signed-rank test of the log ratios against 0. Missing values are None (JSON has no NaN).
How a summary is put in words (`describe_effect`, `effect_verdict`) is the file format's:
`cards.format.effect_wording`, which the cards and pages read too.
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
