"""The default threshold with the target's word-order model, paired by seed with the committed regime arms.

The new default's runs (bench_regimes.py `--arms igf_affinity`, written to their own files) are read beside the
committed runs of the same regimes, whose standard, clean, `target:0.1` (igf_target), DSIR and classifier arms
and the previous default (renamed `igf_affinity_before`) they pair with: runs are deterministic on this machine
(R3 seed 0's standard arm reproduced 34.41867 to the last digit), so a committed arm is the arm a rerun would
give. The summary is bench_regimes.py's (`regime_summary.summarise`).

    python benchmarks/word_order_default.py \\
        --new benchmarks/results/regimes_R3_word_order.json benchmarks/results/regimes_R0_R1_word_order.json \\
        --committed benchmarks/results/regimes_R3_R0.json benchmarks/results/regimes_R1.json \\
        --out benchmarks/results/word_order_default.json
    python benchmarks/word_order_default.py --new benchmarks/results/regimes_R5_word_order.json \
        --committed benchmarks/results/regimes_R5.json --out benchmarks/results/word_order_default_R5.json

(R5 apart: the kjv regimes share one clean arm, which summarise would give every regime in the file.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from regime_summary import effect, final, summarise

#: Pairs reported for the new default (igf_affinity) beside regime_summary's own.
EXTRA_PAIRS = (("igf_affinity", "igf_affinity_before"), ("igf_affinity", "dsir"), ("igf_affinity", "classifier"))
#: Committed arms read beside the new default (R5 keeps its own clean arm and its peers at the old default's rate).
KEPT_FROM_COMMITTED = ("standard", "clean", "igf_target", "dsir", "classifier", "igf_affinity", "dsir_affinity",
                       "classifier_affinity", "random_affinity")


def combined(new_files: list[Path], committed_files: list[Path]) -> dict:
    """One results dict: committed arms (the old default renamed) plus the new default's runs."""
    runs: dict[str, dict[str, list]] = {}
    commands = []
    for path in committed_files:
        data = json.loads(path.read_text())
        commands += data.get("commands", [])
        for regime, arms in data["runs"].items():
            target = runs.setdefault(regime, {})
            for arm, records in arms.items():
                if regime == "shared" or arm in KEPT_FROM_COMMITTED:
                    name = "igf_affinity_before" if arm == "igf_affinity" and regime != "shared" else arm
                    target.setdefault(name, []).extend(records)
    for path in new_files:
        data = json.loads(path.read_text())
        commands += data.get("commands", [])
        for regime, arms in data["runs"].items():
            for arm, records in arms.items():
                if arm == "igf_affinity":
                    runs.setdefault(regime, {}).setdefault(arm, []).extend(records)
    return {"runs": runs, "commands": commands}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new", nargs="+", type=Path, required=True)
    parser.add_argument("--committed", nargs="+", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = combined(args.new, args.committed)
    summary = summarise(results)

    for regime, section in summary.items():
        arms = {**results["runs"].get(regime, {}), "clean": results["runs"].get("shared", {}).get("clean", [])}
        for a, b in EXTRA_PAIRS:
            if arms.get(a) and arms.get(b):
                section["pairs"][f"{a}/{b}"] = {"final": effect(arms[a], arms[b], final)}
    seeds = {regime: len(arms.get("igf_affinity", [])) for regime, arms in results["runs"].items()
             if regime != "shared"}
    out = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date": dt.date.today().isoformat(),
           "new_default_seeds": seeds, "sources": {"new": [str(p) for p in args.new],
                                                   "committed": [str(p) for p in args.committed]},
           "note": "igf_affinity = the default with the word-order model; igf_affinity_before = the default "
                   "before it; dsir and classifier ran at igf_target's rate, not the new default's.",
           "summary": summary, "commands_of_the_runs": results["commands"]}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    for regime, section in summary.items():
        row = section["arms"].get("igf_affinity", {})
        print(regime, {k: round(v["final"]["median_ratio"], 4) for k, v in section["pairs"].items()
                       if k.startswith("igf_affinity/")},
              "vs standard", row.get("vs_standard_final", {}).get("median_ratio"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
