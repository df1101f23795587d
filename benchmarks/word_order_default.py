"""The default threshold with the target's word-order model, paired by seed with the committed regime arms.

The new default's runs (bench_regimes.py `--arms igf_affinity`, written to their own files) are read beside the
committed runs of the same regimes, whose standard, clean, `target:0.1` (igf_target), DSIR and classifier arms
and the previous default (renamed `igf_affinity_before`) they pair with: runs are deterministic on this machine
(R3 seed 0's standard arm reproduced 34.41867 to the last digit), so a committed arm is the arm a rerun would
give. The summary is bench_regimes.py's (`regime_summary.summarise`).

    python benchmarks/word_order_default.py \\
        --new benchmarks/results/regimes_R3_word_order.json benchmarks/results/regimes_R0_R1_word_order.json \\
        benchmarks/results/regimes_R5_word_order.json \\
        --committed benchmarks/results/regimes_R3_R0.json benchmarks/results/regimes_R1.json \\
        benchmarks/results/regimes_R5.json --out benchmarks/results/word_order_default.json

Each committed file is summarised on its own: a file's `shared` clean arm is the clean target in the order of
its first regime's pool, so R1's and R3's clean runs differ and are not interchangeable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from regime_summary import effect, final, summarise

#: Pairs reported for the new default (igf_affinity) beside regime_summary's own.
EXTRA_PAIRS = (("igf_affinity", "igf_affinity_before"), ("igf_affinity", "dsir"), ("igf_affinity", "classifier"),
               ("igf_affinity", "dsir_affinity"), ("igf_affinity", "classifier_affinity"),
               ("igf_affinity", "random_affinity"), ("igf_affinity_before", "dsir_affinity_before"),
               ("igf_affinity_before", "classifier_affinity_before"), ("igf_affinity_cosine_before", "standard_cosine"))
#: Arms read from the new files (a committed arm of the same name is replaced).
NEW_ARMS = ("igf_affinity", "dsir_affinity", "classifier_affinity", "random_affinity", "igf_affinity_cosine")
#: Committed arms read beside the new default (R5 keeps its own clean arm and its peers at the old default's rate).
KEPT_FROM_COMMITTED = ("standard", "clean", "igf_target", "dsir", "classifier", "igf_affinity", "dsir_affinity",
                       "classifier_affinity", "random_affinity", "standard_cosine", "igf_affinity_cosine")


def combined(new_files: list[Path], committed: Path, before_files: list[Path] = ()) -> dict:
    """One results dict: a committed file's arms (its old default renamed) plus the new default's runs of the
    same regimes. One committed file at a time: each file's `shared` clean arm is the clean target in the order
    of that file's first regime's pool, not interchangeable between files. A regime's previous default (and its
    peers at that default's rate) may come from `before_files` instead, where a later default than the committed
    file's was measured; peers at the previous default's rate keep a `_before` suffix once the new default has
    its own runs."""
    data = json.loads(committed.read_text())
    runs: dict[str, dict[str, list]] = {}
    for regime, arms in data["runs"].items():
        for arm, records in arms.items():
            if regime == "shared" or arm in KEPT_FROM_COMMITTED:
                name = "igf_affinity_before" if arm == "igf_affinity" and regime != "shared" else arm
                runs.setdefault(regime, {})[name] = list(records)
    commands = list(data.get("commands", []))
    for path in before_files:
        before = json.loads(path.read_text())
        for regime in [regime for regime in before["runs"] if regime in runs and regime != "shared"]:
            commands += [c for c in before.get("commands", []) if c not in commands]
            for arm in NEW_ARMS:
                if before["runs"][regime].get(arm):
                    runs[regime][f"{arm}_before"] = list(before["runs"][regime][arm])
    for path in new_files:
        new = json.loads(path.read_text())
        regimes = [regime for regime in new["runs"] if regime in runs and regime != "shared"]
        if regimes:
            commands += new.get("commands", [])
        for regime in regimes:   # the new default, and the peers at its rate where they were run with it
            for arm in NEW_ARMS[1:]:   # peers at the previous default's rate are not at the new one's
                if arm in runs[regime] and new["runs"][regime].get("igf_affinity"):
                    runs[regime].setdefault(f"{arm}_before", runs[regime].pop(arm))
            for arm in NEW_ARMS:
                if new["runs"][regime].get(arm):
                    runs[regime][arm] = list(new["runs"][regime][arm])
    return {"runs": runs, "commands": commands}


def compare(results: dict) -> dict:
    """regime_summary's summary, plus the new default against the old one and the peers at their own rate."""
    summary = summarise(results)
    for regime, section in summary.items():
        arms = dict(results["runs"].get(regime, {}))
        if results["runs"].get("shared", {}).get("clean"):   # R4 holds its own clean arm (the scarce target)
            arms["clean"] = results["runs"]["shared"]["clean"]
        for a, b in EXTRA_PAIRS:
            if arms.get(a) and arms.get(b):
                section["pairs"][f"{a}/{b}"] = {"final": effect(arms[a], arms[b], final)}
    return summary


#: What the plot calls each paired arm.
PLOT_NAMES = {"igf_affinity_before": "previous default", "dsir_affinity": "DSIR, same rate",
              "classifier_affinity": "classifier, same rate", "dsir": "DSIR, target:0.1's rate",
              "classifier": "classifier, target:0.1's rate", "igf_target": "target:0.1", "clean": "clean target",
              "random_affinity": "random, same rate", "igf_affinity_cosine": "the default, cosine LR"}


def plot_ratios(by_file: dict, path: Path) -> Path:
    """Per-seed ratios of the new default to each arm it is paired with, one panel per regime: dots are seeds,
    bars the medians; below 1 the new default is ahead."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(regime, section) for summary in by_file.values() for regime, section in summary.items()
              if any(k.startswith("igf_affinity/") for k in section["pairs"])]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for axis, (regime, section) in zip(axes[0], panels):
        pairs = {k.split("/")[1]: v["final"] for k, v in section["pairs"].items() if k.startswith("igf_affinity/")}
        standard = section["arms"]["igf_affinity"].get("vs_standard_final")
        if standard:
            pairs = {"standard": standard, **pairs}
        for i, effect_ in enumerate(pairs.values()):
            axis.scatter([i] * len(effect_["ratios"]), effect_["ratios"], s=12, alpha=0.6)
            axis.hlines(effect_["median_ratio"], i - 0.3, i + 0.3, color="black")
        axis.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
        axis.set_xticks(range(len(pairs)), [PLOT_NAMES.get(name, name) for name in pairs], rotation=60, ha="right",
                        fontsize=7)
        axis.set_title(f"{regime}: the default / each arm", fontsize=9)
        axis.set_ylabel("test perplexity ratio (per seed)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new", nargs="+", type=Path, required=True)
    parser.add_argument("--committed", nargs="+", type=Path, required=True, help="Each summarised on its own.")
    parser.add_argument("--before", nargs="*", type=Path, default=[],
                        help="Files holding a later previous default than the committed ones (its runs as *_before).")
    parser.add_argument("--note", default="igf_affinity = the default with the word-order model; igf_affinity_before "
                                          "= the default before it; dsir and classifier ran at igf_target's rate, "
                                          "not the new default's.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plot", type=Path, default=None, help="Also draw the per-seed ratios here (a .png).")
    args = parser.parse_args()
    by_file, seeds, commands = {}, {}, []
    for committed in args.committed:
        results = combined(args.new, committed, args.before)
        by_file[committed.name] = compare(results)
        commands += [c for c in results["commands"] if c not in commands]
        seeds.update({regime: len(arms.get("igf_affinity", [])) for regime, arms in results["runs"].items()
                      if regime != "shared"})
    out = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date": dt.date.today().isoformat(),
           "new_default_seeds": seeds, "sources": {"new": [str(p) for p in args.new],
                                                   "committed": [str(p) for p in args.committed]},
           "note": args.note,
           "summary_by_committed_file": by_file, "commands_of_the_runs": commands}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    if args.plot:
        plot_ratios(by_file, args.plot)
    for name, summary in by_file.items():
        for regime, section in summary.items():
            row = section["arms"].get("igf_affinity", {})
            print(name, regime, "seeds", row.get("seeds"),
                  {k: round(v["final"]["median_ratio"], 4) for k, v in section["pairs"].items()
                   if k.startswith("igf_affinity/")},
                  "vs standard", row.get("vs_standard_final", {}).get("median_ratio"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
