"""IGF benchmark on SmolLM2-135M with a real corpus, the paper's protocol.

Measures, in one run, with results written as they come (so a run cut short still reports):
  1. build cost: contexts/s of the fast probe vs the exact probe on the same contexts, and their
     Spearman agreement (goal: >= 10x faster at Spearman >= 0.8);
  2. the learner built with the fast probe (held-out Spearman, MSE) and its filter overhead: time to
     score a context relative to the LM's forward pass on it (goal: < 1%);
  3. fine-tuning, standard vs IGF (shifting threshold), seeds interleaved: median test perplexity at
     the last step, the IGF/standard ratio, a Welch t-test, and a plot (goal: ratio <= 0.94).

Example:
    python benchmarks/bench_igf.py --corpus ../shared/corpora/kjv.jsonl.gz --seeds 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr, ttest_ind

from learners.base_models import load_base_model
from learners.corpora.corpus import load_corpus
from learners.finetuning.evaluation.comparison import compare_filters
from learners.finetuning.training.loop import FinetuneConfig
from learners.igf.build import BuildConfig, build_information_gain_learner, split_corpus
from learners.igf.filter import InformationGainFilter
from learners.igf.information_gain import ExactInformationGainProbe, FastInformationGainProbe
from learners.igf.thresholds import parse_threshold
from learners.loading import load_learner
from learners.plots import plot_perplexity_curves

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    return {"cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(),
            "cuda": torch.cuda.is_available()}


def measure_probes(model, split, count: int, seed: int) -> dict:
    contexts = split.train.sample(count, torch.Generator().manual_seed(seed + 100))
    fast = FastInformationGainProbe(model, split.objective)
    started = time.perf_counter()
    fast._prepare_objective()
    prepare_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fast_gains = fast(contexts, progress=True)
    fast_seconds = time.perf_counter() - started
    started = time.perf_counter()
    exact_gains = ExactInformationGainProbe(model, split.objective)(contexts, progress=True)
    exact_seconds = time.perf_counter() - started
    return {
        "contexts": count, "objective_size": len(split.objective),
        "exact_seconds_per_context": exact_seconds / count,
        "fast_seconds_per_context": fast_seconds / count,
        "fast_objective_gradient_seconds": prepare_seconds,
        "speedup": exact_seconds / fast_seconds,
        "speedup_including_objective_gradient": exact_seconds / (fast_seconds + prepare_seconds),
        "spearman_fast_vs_exact": float(spearmanr(exact_gains, fast_gains)[0]),
        "exact_gain_mean": float(exact_gains.mean()), "fast_gain_mean": float(fast_gains.mean()),
    }


@torch.no_grad()
def measure_filter_overhead(model, learner, split, repeats: int = 20) -> dict:
    batch = split.train.sample(16, torch.Generator().manual_seed(7))
    model.eval()

    def median_seconds(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    score = median_seconds(lambda: learner.score(batch))
    forward = median_seconds(lambda: model(input_ids=batch))
    return {"batch": len(batch), "learner_seconds": score, "lm_forward_seconds": forward,
            "overhead_fraction": score / forward}


def write(results: dict, out: Path) -> None:
    out.write_text(json.dumps(results, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="Corpus path, e.g. ../shared/corpora/kjv.jsonl.gz")
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--seeds", type=int, default=10, help="Fine-tuning seeds per arm.")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--pairs", type=int, default=1000, help="Pairs the learner is built from (fast probe).")
    parser.add_argument("--probe-contexts", type=int, default=40, help="Contexts for fast vs exact.")
    parser.add_argument("--threshold", default="shifting", help="IGF threshold (see learnerhub finetune).")
    parser.add_argument("--budget-minutes", type=float, default=None,
                        help="Start no new seed after this many minutes (the results so far are kept).")
    parser.add_argument("--learner-out", default=None, help="Also save the learner built here to this folder.")
    parser.add_argument("--learner", default=None,
                        help="Use this learner folder instead of building one (skips the probe comparison).")
    parser.add_argument("--out", default=str(RESULTS / "igf.json"))
    parser.add_argument("--resume", action="store_true",
                        help="Keep the seeds already in --out (needs --learner, the same one) and run the rest.")
    args = parser.parse_args()
    if args.resume and not args.learner:
        parser.error("--resume needs --learner: new seeds must use the learner the earlier ones used")
    started = time.perf_counter()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    model, tokenizer, ref = load_base_model(args.base_model)
    corpus = load_corpus(args.corpus)
    build_config = BuildConfig(pairs=args.pairs, seed=0)
    _, split = split_corpus(corpus, tokenizer, build_config)
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date": dt.date.today().isoformat(),
               "machine": machine(), "corpus": corpus.name, "base_model": ref.model_id,
               "protocol": {"context_length": 32, "objective_size": 100, "test_size": 100, "batch_size": 16,
                            "lr": 5e-5, "max_grad_norm": 3.0, "steps": args.steps, "eval_every": 10,
                            "threshold": parse_threshold(args.threshold).describe()}}

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else None   # read before any write
    if earlier:
        results["commands"] = [*earlier.get("commands", [earlier["command"]]), results["command"]]
        if "probes" in earlier:
            results["probes"] = earlier["probes"]
    if args.learner:
        learner = load_learner(args.learner, model, tokenizer)
    else:
        results["probes"] = measure_probes(model, split, args.probe_contexts, seed=0)
        write(results, out)
        learner = build_information_gain_learner(model, tokenizer, corpus, ref, build_config, progress=True)
        if args.learner_out:
            learner.save(args.learner_out)
    results["learner"] = {"metrics": learner.metadata.metrics, "probe": learner.metadata.probe.to_dict()}
    results["filter_overhead"] = measure_filter_overhead(model, learner, split)
    write(results, out)

    runs: dict[str, list] = {"standard": [], "igf": []}
    if earlier:
        runs = earlier.get("runs", runs)
    for seed in range(len(runs["igf"]), args.seeds):
        if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
            break
        config = FinetuneConfig(steps=args.steps, seed=seed)
        arms = {"standard": None, "igf": InformationGainFilter(learner, parse_threshold(args.threshold))}
        for name, result in compare_filters(model, split, arms, config, progress=True).items():
            runs[name].append(result.to_dict())
        results["finetuning"] = summarise(runs)
        results["runs"] = runs
        write(results, out)
        plot_perplexity_curves({name: [r["evaluations"] for r in rs] for name, rs in runs.items()},
                               out.with_name("igf_perplexity.png"),
                               title=f"{corpus.name}: SmolLM2-135M, standard vs IGF ({len(runs['igf'])} seeds)")
    results["wall_minutes"] = (time.perf_counter() - started) / 60
    write(results, out)
    print(json.dumps({k: results[k] for k in ("probes", "filter_overhead", "finetuning") if k in results}, indent=2))
    return 0


def summarise(runs: dict[str, list]) -> dict:
    final = {name: [r["final_perplexity"] for r in rs] for name, rs in runs.items()}
    steps = [e["step"] for e in runs["standard"][0]["evaluations"]]
    by_step = {name: {str(step): statistics.median(r["evaluations"][i]["test_perplexity"] for r in rs)
                      for i, step in enumerate(steps)} for name, rs in runs.items()}
    summary = {
        "seeds": len(final["igf"]),
        "median_final_perplexity": {name: statistics.median(v) for name, v in final.items()},
        "median_perplexity_by_step": by_step,
        "final_perplexity_per_seed": final,
        "contexts_drawn_median": statistics.median(r["contexts_seen"] for r in runs["igf"]),
        "wall_seconds_median": {name: statistics.median(r["wall_seconds"] for r in rs) for name, rs in runs.items()},
    }
    summary["ratio_igf_over_standard"] = (summary["median_final_perplexity"]["igf"]
                                          / summary["median_final_perplexity"]["standard"])
    if len(final["igf"]) >= 2:
        summary["welch_t_test_p"] = float(ttest_ind(final["igf"], final["standard"], equal_var=False).pvalue)
    return summary


if __name__ == "__main__":
    sys.exit(main())
