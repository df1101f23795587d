"""R4, a scarce target (issue 18): a user holds a few target contexts, and a large pool of other text.

The target is Python documentation (the shared pydocs corpus): the user holds --target-contexts of it
(default 64 contexts of 32 tokens, about 2k tokens), which are at once the learner's objective set and
all the clean arm can train on, so plain fine-tuning must repeat them (30 steps x 8 = 240 draws: almost
4 passes). The test set is other held-out pydocs documents. The pool mixes, by contexts, in --pool-mix
proportions: other pydocs pages (the in-domain text a web pool holds), near-domain documentation (CMake's
reStructuredText, from benchmarks/realistic_corpora.py) and unrelated prose (the King James Bible).

Arms, paired by seed: clean (the scarce target repeated), standard (the pool), igf_target (a learner
built on probed pool pairs with the scarce target as its objective, default threshold), igf_with_target
(the same learner filtering pool + the scarce target), igf_affinity (gain plus target affinity), dsir,
classifier (a hashed word 1-2-gram logistic regression of the scarce target against the build pool) and
random (at igf_target's rate), and dsir_affinity, classifier_affinity, random_affinity (the same peers and
random at igf_affinity's rate, the default's). The moonshot: a selection arm below the clean target with its CI below 1.

    python benchmarks/realistic_corpora.py --out .runs/r5
    python benchmarks/bench_scarce.py --corpora .runs/r5 --seeds 10 --resume
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

from learners.base_models import load_base_model
from learners.constants import DEFAULT_TARGET_QUANTILE
from learners.corpora.contexts import ContextStream, CorpusSplit, TokenizedCorpus
from learners.corpora.corpus import load_corpus
from learners.finetuning.training.loop import FinetuneConfig
from learners.finetuning.evaluation.reference_filters import OracleFilter, RandomFilter
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs
from learners.igf.filter import InformationGainFilter
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.thresholds import AffinityQuantile, TargetQuantile
from cards.format.metadata_sections import CorpusInfo, ProbeInfo

sys.path.insert(0, str(Path(__file__).parent))
from bench_realistic import by_source, sample  # noqa: E402
from bench_regimes import finish, machine, probe_all, reliability, run_arm, write  # noqa: E402
from peer_selectors import classifier_scores, dsir_scores  # noqa: E402
from regime_summary import by_seed, merge_runs, read_results, summarise  # noqa: E402
from run_arguments import add_run_arguments  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ARMS = ("standard", "clean", "igf_target", "igf_with_target", "igf_affinity", "dsir", "random_target", "classifier",
        "dsir_affinity", "classifier_affinity", "random_affinity")
#: Arms that keep at another arm's measured rate in the same seed (so they run after it).
AT_RATE_OF = {"dsir": "igf_target", "random_target": "igf_target", "classifier": "igf_target",
              "dsir_affinity": "igf_affinity", "classifier_affinity": "igf_affinity", "random_affinity": "igf_affinity"}
SOURCES = ("target_other_pages", "near_domain", "unrelated")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=".runs/r5", help="Folder realistic_corpora.py wrote (CMake docs).")
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--arms", default=",".join(ARMS))
    add_run_arguments(parser, seeds=10, eval_every=10, objective_size=False)
    parser.add_argument("--target-contexts", type=int, default=64, help="The scarce target: objective and clean arm.")
    parser.add_argument("--pool-mix", default="1,1,1", help="Pool shares: other pydocs pages, near-domain, unrelated.")
    parser.add_argument("--pool-size", type=int, default=1800)
    parser.add_argument("--build-pairs", type=int, default=600)
    parser.add_argument("--target-quantile", type=float, default=DEFAULT_TARGET_QUANTILE)
    parser.add_argument("--out", default=str(RESULTS / "regimes_R4.json"))
    parser.add_argument("--cache", default=".runs/r4_labels.pt")
    parser.add_argument("--merge", nargs="*", default=[], help="Result files of other processes (--first-seed): "
                                                               "their runs are added to --out's, then it exits.")
    args = parser.parse_args()
    started = time.perf_counter()
    out, corpora, shared = Path(args.out), Path(args.corpora), Path(args.shared)
    arms = [a for a in ARMS if a in args.arms.split(",")]

    if args.merge:   # JSON only: no model, no probe
        return finish(merge_runs(*read_results(out, args.merge)), out, started)
    model, tokenizer, ref = load_base_model(args.base_model)
    config = BuildConfig(objective_size=args.target_contexts, test_size=args.test_size, seed=0, pairs=args.build_pairs,
                         head=HeadTrainingConfig(head="bag_of_tokens"))
    length = config.context_length

    def tokenized(path: Path) -> TokenizedCorpus:
        return TokenizedCorpus.from_corpus(load_corpus(path), tokenizer, context_length=length)

    # The scarce target is the split's objective set (one context from each of --target-contexts documents);
    # the pool's pydocs pages are the split's other training documents: never the target's nor the test's.
    target = tokenized(shared / "pydocs.jsonl.gz").split(objective_size=args.target_contexts,
                                                         test_size=args.test_size, seed=0)
    scarce, test = target.objective, target.test
    sources = [target.train, ContextStream(tokenized(corpora / "cmake_docs.jsonl.gz").documents, length),
               ContextStream(tokenized(shared / "kjv.jsonl.gz").documents, length)]
    shares = [float(x) for x in args.pool_mix.split(",")]

    def pool(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        counts = [round(size * s / sum(shares)) for s in shares]
        contexts = torch.cat([sample(stream, n, seed + i) for i, (stream, n) in enumerate(zip(sources, counts))])
        codes = torch.cat([torch.full((n,), i) for i, n in enumerate(counts)])
        order = torch.randperm(len(contexts), generator=torch.Generator().manual_seed(seed + 9))
        return contexts[order], codes[order]

    build, build_sources = pool(args.build_pairs, 31)
    ft, ft_sources = pool(args.pool_size, 41)
    labels = probe_all(model, scarce, {"build": build, "ft": ft}, Path(args.cache))
    gains = labels["ft"].mean(1)
    learner = learner_from_pairs(model, tokenizer, ref, build, labels["build"].mean(1), config=config,
                                 probe=ProbeInfo(name="fast", extra={"objective_parts": 2}),
                                 target=CorpusInfo(name="pydocs-scarce"), pool=CorpusInfo(name="R4-pool"),
                                 calibration=ft, target_calibration=scarce)
    # The affinity's classifier learns from one half of the scarce target and is placed on the other (text it
    # never saw: calibrated on its own training examples, it would set a cut no pool text reaches).
    half = len(scarce) // 2
    attach_target_affinity(learner, tokenizer, CorpusSplit(objective=scarce, test=test, train=ContextStream(
        list(ft), length), target_train=ContextStream(list(scarce[:half]), length)), build, scarce[half:], config)
    with_target = torch.cat([ft, scarce])
    ft_texts, scarce_texts = tokenizer.batch_decode(ft), tokenizer.batch_decode(scarce)
    dsir = dsir_scores(ft_texts, scarce_texts)
    classifier = classifier_scores(ft_texts, scarce_texts, tokenizer.batch_decode(build))

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else {}
    command = " ".join([Path(sys.executable).name, *sys.argv])
    results = {"command": command, "date": dt.date.today().isoformat(), "machine": machine(),
               "base_model": ref.model_id, "corpora": json.loads((corpora / "manifest.json").read_text()),
               "protocol": {**{k: v for k, v in vars(args).items() if k not in ("resume", "out", "cache", "arms")},
                            "context_length": length},
               "commands": [*earlier.get("commands", []), command], "runs": earlier.get("runs", {})}
    scores = learner.score(ft)
    learner_selection = by_source(scores, learner.target_score_quantile(args.target_quantile), ft_sources, SOURCES)
    # The oracle (the measured gain) keeping as much of the pool as the learner does: who is short, labels or learner.
    oracle_cut = float(torch.quantile(gains, 1 - learner_selection["kept_fraction_of_pool"]))
    results["R4"] = {"labels": reliability(labels["build"]),
                     "learner": {**{k: learner.metadata.metrics[k] for k in ("test_spearman", "validation_spearman")},
                                 "spearman_on_pool": float(spearmanr(scores.numpy(), gains.numpy())[0])},
                     "sources": SOURCES, "selection_learner": learner_selection,
                     "selection_oracle_at_learner_rate": by_source(gains, oracle_cut, ft_sources, SOURCES),
                     "selection_affinity": by_source(learner.affinity_score(ft),
                                                     learner.affinity_quantile(args.target_quantile),
                                                     ft_sources, SOURCES)}
    write(results, out)

    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    runs = results["runs"].setdefault("R4", {})

    def rate(seed: int, arm: str = "igf_target") -> float:
        return by_seed(runs[arm])[seed]["acceptance_rate"]

    filters = {
        "standard": lambda seed: None, "clean": lambda seed: None,
        "igf_target": lambda seed: InformationGainFilter(learner, TargetQuantile(args.target_quantile)),
        "igf_with_target": lambda seed: InformationGainFilter(learner, TargetQuantile(args.target_quantile)),
        "igf_affinity": lambda seed: InformationGainFilter(learner, AffinityQuantile(args.target_quantile)),
        "dsir": lambda seed: OracleFilter(ft, dsir, keep=rate(seed)),
        "random_target": lambda seed: RandomFilter(rate(seed), seed=seed),
        "classifier": lambda seed: OracleFilter(ft, classifier, keep=rate(seed)),
        "dsir_affinity": lambda seed: OracleFilter(ft, dsir, keep=rate(seed, "igf_affinity")),
        "classifier_affinity": lambda seed: OracleFilter(ft, classifier, keep=rate(seed, "igf_affinity")),
        "random_affinity": lambda seed: RandomFilter(rate(seed, "igf_affinity"), seed=seed)}
    pools = {"clean": scarce, "igf_with_target": with_target}
    for seed in range(args.first_seed, args.seeds):
        for arm in arms:
            if seed in by_seed(runs.get(arm, [])):
                continue
            if arm in AT_RATE_OF and seed not in by_seed(runs.get(AT_RATE_OF[arm], [])):
                continue
            if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
                return finish(results, out, started)
            print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} R4 {arm}", flush=True)
            runs.setdefault(arm, []).append(run_arm(model, initial, pools.get(arm, ft), test, filters[arm](seed),
                                                    FinetuneConfig(steps=args.steps, batch_size=args.batch_size,
                                                                   lr=args.lr, eval_every=args.eval_every, seed=seed)))
            results["summary"] = summarise(results)
            write(results, out)
    return finish(results, out, started)


if __name__ == "__main__":
    sys.exit(main())
