"""An evaluation's effect in words: the verdict and the one line a user reads first, from the summary that
`learners.finetuning.evaluation.effect.paired_effect` records in learner.json (median ratio, 95% CI, Wilcoxon p, seeds).

Here, below the ML library, because the cards, the pages and listings word a recorded effect the same way as
`learnerhub eval` does, without torch or the statistics.
"""

from __future__ import annotations

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
