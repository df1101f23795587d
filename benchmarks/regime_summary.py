"""Statistics and plots of bench_regimes.py's runs: paired effects per regime, compute, curves."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np

from learners.finetuning.evaluation.effect import paired_effect
from learners.plots import plot_arm_curves

#: Relative cost of a context in LM forward passes: a trained context costs a forward and a backward
#: (~2 forwards); a scored-only context (high_loss) a forward. The learners' scoring is < 1% (igf.json).
BACKWARD_COST = 3.0
#: Paired comparisons reported beside each arm's ratio to standard and clean: the default threshold
#: against random at its rate, the peers, the top-half cut and the fully decayed schedule; a transferred
#: learner against the one made in place and the peers at its rate (bench_transfer.py); whole documents kept by
#: the default's document cut against the peers at its token rate (bench_realistic_documents.py).
PAIRS = (("igf_target", "random_target"), ("igf_target", "dsir"), ("igf_target", "classifier"),
         ("igf_target", "igf"), ("igf_target_cosine", "standard_cosine"), ("igf_target", "standard_cosine"),
         ("igf_target_cosine", "igf_target"), ("standard_cosine", "standard"), ("igf_domain", "igf_target"),
         ("igf_domain", "dsir"), ("igf_domain", "classifier"), ("igf_domain", "clean"), ("igf_weighted", "clean"),
         ("igf_affinity", "igf_target"), ("igf_affinity", "clean"), ("igf_affinity", "random_affinity"),
         ("igf_affinity", "dsir_affinity"), ("igf_affinity", "classifier_affinity"), ("igf_affinity", "igf_domain"),
         ("igf_affinity_cosine", "standard_cosine"), ("igf_affinity_cosine", "igf_affinity"),
         ("igf_veto2", "igf_affinity"), ("igf_veto2", "dsir_affinity"), ("igf_veto2", "clean"),
         ("transfer", "in_place"), ("transfer", "dsir"), ("transfer", "classifier"), ("in_place", "bag_of_tokens"),
         ("igf_documents", "dsir_documents"), ("igf_documents", "classifier_documents"),
         ("igf_documents", "random_documents"), ("igf_documents", "igf_contexts"), ("igf_documents", "clean"))


def read_results(out: Path, others: list[str]) -> tuple[dict, list[dict]]:
    """`--merge`'s inputs: the result file `out` and the other processes' files; a missing or unreadable one ends
    the command with one line that names it (exit 2), never a traceback."""
    def read(path: Path) -> dict:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as error:
            print(f"error: cannot read result file {path}: {error}. --merge adds the runs of the files given to "
                  "--out's, so both must be result files this benchmark wrote.", file=sys.stderr)
            raise SystemExit(2) from None

    return read(Path(out)), [read(Path(other)) for other in others]


def merge_runs(results: dict, others: list[dict]) -> dict:
    """`results` with the runs (every regime or setting) and commands of `others` added: result files of other
    processes of the same protocol (--first-seed on another core); a seed already in `results` is kept."""
    for other in others:
        for regime, arms in other["runs"].items():
            runs = results["runs"].setdefault(regime, {})
            for arm, records in arms.items():
                have = by_seed(runs.get(arm, []))
                runs.setdefault(arm, []).extend(r for r in records if r["seed"] not in have)
        results["commands"] += [c for c in other.get("commands", []) if c not in results["commands"]]
    return results


def final(run: dict) -> float:
    return run["evaluations"][-1]["test_perplexity"]


def best(run: dict) -> float:
    return min(e["test_perplexity"] for e in run["evaluations"])


def compute_units(run: dict) -> float:
    return BACKWARD_COST * run["lm_backward_contexts"] + run["scoring_forward_contexts"]


def by_seed(runs: list[dict]) -> dict[int, dict]:
    return {run["seed"]: run for run in runs}


def effect(arm: list[dict], baseline: list[dict], metric) -> dict:
    a, b = by_seed(arm), by_seed(baseline)
    seeds = sorted(set(a) & set(b))
    return paired_effect([metric(a[s]) for s in seeds], [metric(b[s]) for s in seeds])


def backward_to_reach(run: dict, level: float) -> int | None:
    """Contexts trained on when test perplexity first fell to `level` (None: never, at the evaluations)."""
    for evaluation in run["evaluations"]:
        if evaluation["test_perplexity"] <= level:
            return evaluation["trained"]
    return None


def perplexity_at_compute(run: dict, units: float) -> float | None:
    """Test perplexity interpolated at `units` of compute (None past the end of the run)."""
    total = compute_units(run)
    steps = run["evaluations"][-1]["step"] or 1
    xs = [total * e["step"] / steps for e in run["evaluations"]]
    if units > xs[-1] + 1e-9:
        return None
    return float(np.interp(units, xs, [e["test_perplexity"] for e in run["evaluations"]]))


def regime_arms(results: dict, regime: str) -> dict[str, list[dict]]:
    arms = dict(results["runs"].get(regime, {}))
    clean = results["runs"].get("shared", {}).get("clean", [])
    if clean:
        arms["clean"] = clean
        if regime == "R0":
            arms["standard"] = clean
    return arms


def summarise(results: dict) -> dict:
    summary = {}
    for regime in [r for r in results["runs"] if r != "shared"]:
        arms = regime_arms(results, regime)
        standard = arms.get("standard", [])
        section = {"arms": {}}
        for name, runs in arms.items():
            if not runs:
                continue
            row = {"seeds": len(runs), "median_final_perplexity": statistics.median(map(final, runs)),
                   "median_best_perplexity": statistics.median(map(best, runs)),
                   "median_acceptance_rate": statistics.median(r["acceptance_rate"] for r in runs),
                   "median_candidates_seen": statistics.median(r["contexts_seen"] for r in runs),
                   "median_compute_units": statistics.median(map(compute_units, runs)),
                   "median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs)}
            for baseline_name in ("standard", "clean"):
                baseline = arms.get(baseline_name)
                if baseline and name != baseline_name and not (regime == "R0" and name in ("standard", "clean")):
                    row[f"vs_{baseline_name}_final"] = effect(runs, baseline, final)
                    row[f"vs_{baseline_name}_best"] = effect(runs, baseline, best)
            if standard and name != "standard":
                paired = by_seed(standard)
                reach = [backward_to_reach(r, final(paired[r["seed"]])) for r in runs if r["seed"] in paired]
                reached = [x for x in reach if x is not None]
                row["backward_to_reach_standard_final"] = {
                    "reached": f"{len(reached)}/{len(reach)}",
                    "median_fraction_of_standard": (statistics.median(reached) / paired[runs[0]["seed"]]
                                                    ["lm_backward_contexts"]) if reached else None}
                at_compute = [perplexity_at_compute(r, compute_units(paired[r["seed"]])) for r in runs
                              if r["seed"] in paired]
                if all(v is not None for v in at_compute) and at_compute:
                    row["vs_standard_at_matched_compute"] = paired_effect(
                        at_compute, [final(paired[r["seed"]]) for r in runs if r["seed"] in paired])
            section["arms"][name] = row
        if "igf" in arms and "random" in arms:
            section["igf_vs_random_final"] = effect(arms["igf"], arms["random"], final)
            section["igf_vs_random_best"] = effect(arms["igf"], arms["random"], best)
        clean_row = section["arms"].get("clean", {}).get("vs_standard_final")
        if regime != "R0" and clean_row and clean_row["median_ratio"] < 1:
            clean_gain = 1 - clean_row["median_ratio"]
            section["gain_captured_of_clean"] = {   # (1 - arm/standard) / (1 - clean/standard), medians
                name: round((1 - row["vs_standard_final"]["median_ratio"]) / clean_gain, 3)
                for name, row in section["arms"].items() if name != "clean" and row.get("vs_standard_final")}
        section["pairs"] = {f"{a}/{b}": {"final": effect(arms[a], arms[b], final),
                                         "best": effect(arms[a], arms[b], best)}
                            for a, b in PAIRS if arms.get(a) and arms.get(b) and a != b}
        summary[regime] = section
    return summary


def plot_regimes(results: dict, folder: Path, prefix: str = "regimes") -> list[Path]:
    """One plot per regime: test perplexity against backward passes, arms as lines, CI bands."""
    paths = []
    titles = {"R0": "R0 clean: pool = kjv", "R1": "R1 mixed: kjv + pydocs pool, target kjv",
              "R3": "R3 noisy: kjv + junk pool, target kjv"}
    for regime in [r for r in results["runs"] if r != "shared"]:
        arms = regime_arms(results, regime)
        curves = {name: [([e["trained"] for e in r["evaluations"]], [e["test_perplexity"] for e in r["evaluations"]])
                         for r in runs]
                  for name, runs in arms.items() if runs and not (regime == "R0" and name == "standard")}
        protocol = results["protocol"]
        title = (f"{titles.get(regime, regime)}\n{results['base_model']}, batch {protocol['batch_size']}, "
                 f"median and 95% CI over paired seeds")
        paths.append(plot_arm_curves(curves, Path(folder) / f"{prefix}_{regime}.png", title=title))
    return paths


def markdown_tables(results: dict) -> str:
    """The summary as the Markdown tables benchmarks/README.md quotes (python regime_summary.py FILE)."""
    lines = []

    def ratio(effect: dict | None) -> str:
        if not effect or effect.get("median_ratio") is None:
            return "-"
        text = f"{effect['median_ratio']:.3f}"
        if effect.get("ci_low") is not None:
            text += f" [{effect['ci_low']:.3f}, {effect['ci_high']:.3f}] p={effect['p_value']:.3g}"
        return text

    for regime, section in results.get("summary", {}).items():
        lines += [f"### {regime}", "", "| arm | seeds | median final ppl | median best ppl | vs standard (final) "
                  "| vs standard (best) | vs clean (final) | kept | reach standard's final |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, row in section["arms"].items():
            reach = row.get("backward_to_reach_standard_final") or {}
            share = reach.get("median_fraction_of_standard")
            lines.append(f"| {name} | {row['seeds']} | {row['median_final_perplexity']:.2f} | "
                         f"{row['median_best_perplexity']:.2f} | {ratio(row.get('vs_standard_final'))} | "
                         f"{ratio(row.get('vs_standard_best'))} | {ratio(row.get('vs_clean_final'))} | "
                         f"{row['median_acceptance_rate']:.2f} | "
                         + (f"{reach.get('reached')} seeds, {share:.2f}x the passes" if share is not None
                            else str(reach.get("reached", "-"))) + " |")
        if "igf_vs_random_final" in section:
            lines += ["", f"igf / random at igf's rate: final {ratio(section['igf_vs_random_final'])}, "
                          f"best {ratio(section['igf_vs_random_best'])}"]
        if section.get("gain_captured_of_clean"):
            lines += ["", "share of the clean target's gain captured (1 - arm/standard) / (1 - clean/standard): "
                      + ", ".join(f"{arm} {share:.2f}" for arm, share in section["gain_captured_of_clean"].items())]
        for pair, effects in section.get("pairs", {}).items():
            lines += ["", f"{pair}: final {ratio(effects['final'])}, best {ratio(effects['best'])}"]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    for path in sys.argv[1:]:
        data = json.loads(Path(path).read_text())
        data["summary"] = summarise(data)
        print(markdown_tables(data))
