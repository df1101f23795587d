"""Do information-gain labels probed from a warmed-up model rank R5's near-domain text lower (issue 18)?

R5's shortfall is in the labels: one training step from the *base* model on another project's
reStructuredText improves the target's perplexity as much as a step on the target's own pages (the measured
gain keeps 97% of the CMake docs at the target's 10% quantile), because both teach the format. Fine-tuning
learns the format within a few steps; after that, near-domain text teaches the wrong content. This script
probes the same R5 contexts twice, from the base model (the labels the hub builds on today) and from the base
model after `--warmup-steps` steps on the target's own training text (what a user holds when building a
learner), and reports what each set of labels keeps per source at the target's quantile cuts, so a label
change is measured before any learner or fine-tuning run is paid for.

    python benchmarks/warm_probe_labels.py --corpora .runs/r5 --out benchmarks/results/warm_probe_labels.json
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_realistic import SOURCES, by_source, r5_draws, r5_sources, sample  # noqa: E402
from bench_regimes import machine, write  # noqa: E402

from learners.base_models import load_base_model  # noqa: E402
from learners.corpora.contexts import ContextStream  # noqa: E402
from learners.finetuning.training.loop import FinetuneConfig, finetune  # noqa: E402
from learners.igf.information_gain import FastInformationGainProbe  # noqa: E402

QUANTILES = (0.05, 0.1, 0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=".runs/r5")
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--pool-per-source", type=int, default=200, help="Probed pool contexts per third.")
    parser.add_argument("--target-held-out", type=int, default=200, help="Probed target contexts for the cuts.")
    parser.add_argument("--warmup-steps", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--warmup-contexts", type=int, default=240, help="Target training contexts to warm on.")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--out", default="benchmarks/results/warm_probe_labels.json")
    args = parser.parse_args()
    started = time.perf_counter()
    model, tokenizer, ref = load_base_model("smollm2")
    major, minor, objective, _test, near_documents, unrelated_documents = r5_sources(
        tokenizer, Path(args.corpora), Path(args.shared), objective_size=64, test_size=64, minority_share=0.1,
        length=32)
    near, unrelated = ContextStream(near_documents, 32), ContextStream(unrelated_documents, 32)

    target_sample, _ = r5_draws(major, minor, near, unrelated, 0.1)   # bench_realistic's draws of the target

    own, own_sources = target_sample(args.pool_per_source, 31)
    n = args.pool_per_source
    pool = torch.cat([own, sample(near, n, 32), sample(unrelated, n, 33)])
    sources = torch.cat([own_sources, torch.full((n,), 2), torch.full((n,), 3)])
    held_out, held_out_sources = target_sample(args.target_held_out, 17)
    warm_text, _ = target_sample(args.warmup_contexts, 23)
    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}

    def labels(tag: str) -> dict:
        probe = FastInformationGainProbe(model, objective, objective_parts=2)
        gains = probe.score_parts(pool, progress=True).mean(1)
        target_gains = probe.score_parts(held_out, progress=True).mean(1)
        print(f"[{(time.perf_counter() - started) / 60:.1f} min] probed {tag}", flush=True)
        return {"gains": gains, "target": target_gains}

    probed = {"base": labels("base")}
    for steps in sorted(args.warmup_steps):
        model.load_state_dict(initial)
        torch.set_grad_enabled(True)
        # Warm up from the base weights on the target's own training text (the objective set is not trained on).
        finetune(model, ContextStream(list(warm_text), 32), objective, None,
                 FinetuneConfig(steps=steps, batch_size=8, lr=args.lr, eval_every=steps, seed=0))
        probed[f"warm{steps}"] = labels(f"warm{steps}")
    model.load_state_dict(initial)

    result = {"command": "python " + " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"), "machine": machine(),
              "base_model": ref.model_id, "protocol": {"pool_per_source": n, "target_held_out": args.target_held_out,
                                                     "warmup_contexts": args.warmup_contexts, "lr": args.lr,
                                                     "objective": "R5's 64 target windows (58 : 6 sub-domains)"},
              "labels": {}}
    for tag, got in probed.items():
        row = {"spearman_with_base": float(spearmanr(got["gains"], probed["base"]["gains"])[0]),
               "held_out_minority_median_rank": None, "selection": {}}
        for q in QUANTILES:
            cut = float(torch.quantile(got["target"], q))
            row["selection"][str(q)] = {k: (round(v, 3) if isinstance(v, float) else v)
                                        for k, v in by_source(got["gains"], cut, sources, SOURCES).items()}
        # Are the target's minority windows ranked below its majority ones (the cut's other casualty)?
        minority = got["target"][held_out_sources == 1]
        row["held_out_minority_median_rank"] = float((got["target"] < minority.median()).float().mean())
        result["labels"][tag] = row
        print(tag, {q: {k: v for k, v in s.items() if k.startswith("kept_of")}
                    for q, s in row["selection"].items()}, flush=True)
    result["wall_minutes"] = round((time.perf_counter() - started) / 60, 1)
    write(result, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
