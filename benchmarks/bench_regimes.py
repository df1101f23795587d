"""IGF where selection can pay: a target corpus, pools with something worth skipping, fair baselines.

Regimes (target kjv throughout; its objective and test sets are held-out kjv documents):
  R0 clean: pool = kjv contexts (the negative control);
  R1 mixed: pool = kjv plus --off-fraction (default 50%) pydocs contexts;
  R3 noisy: pool = kjv plus --junk-fraction (default 30%) junk (shuffled kjv, boilerplate, markup).
Arms, paired by seed (the same weights and seed; each arm draws from the regime's pool):
  standard (the pool), clean (standard on the pool's kjv contexts: the ideal a filter tries to
  reach, shared by all regimes), igf (the regime's learner, top-fraction threshold), random (keeps at
  igf's measured rate, same candidate budget), oracle (the probe's own measured gain, the ceiling),
  high_loss (highest current loss, a forward pass per candidate); igf_target (the same learner with the
  default threshold: keep what scores at least like the target's --target-quantile), random_target (at
  igf_target's rate), standard_cosine and igf_target_cosine (the learning rate decayed to zero over the
  run: the fully decayed baseline at matched compute), dsir and classifier (the model-agnostic peers a
  user would pick instead: DSIR's hashed n-gram importance weights and a hashed n-gram target-vs-pool
  classifier, both keeping the pool's top contexts at igf_target's rate); igf_weighted (within-target
  weighting: every context trained on, its loss weighted by softmax(--sharpness x predicted gain));
  igf_affinity (the same learner with `--threshold affinity`: predicted gain plus a target-vs-pool
  classifier's log-odds, fitted by the library as `learnerhub build --target` does, kept at the
  target's --target-quantile of that sum); dsir_affinity, classifier_affinity and random_affinity (the
  peers and random at igf_affinity's rate, the default's); igf_affinity_cosine (the default under the
  fully decayed learning rate, paired with standard_cosine).
Every candidate of every pool is probed once (fast probe, two objective halves), which labels the
learners' pairs, gives the oracle its table and the labels' split-half reliability (the ceiling of
any learner's Spearman). Results are written after every run; --resume continues a cut run.

Example:
    python benchmarks/bench_regimes.py --target ../shared/corpora/kjv.jsonl.gz \
        --off-target ../shared/corpora/pydocs.jsonl.gz --regimes R1,R3,R0 --seeds 10 --resume
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

from learners.base_models import load_base_model
from learners.corpora.contexts import ContextStream
from learners.corpora.corpus import load_corpus
from learners.corpora.pools import Pool, junk_contexts
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.finetuning.evaluation.reference_filters import HighLossFilter, OracleFilter, RandomFilter
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs, split_corpus
from learners.igf.filter import InformationGainFilter
from learners.constants import DEFAULT_TARGET_QUANTILE
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.information_gain import FastInformationGainProbe
from learners.igf.thresholds import AffinityQuantile, TargetQuantile, TopFraction
from learners.igf.weighting import DEFAULT_SHARPNESS, GainWeighting
from cards.format.metadata_sections import CorpusInfo, ProbeInfo

sys.path.insert(0, str(Path(__file__).parent))
from peer_selectors import classifier_scores, dsir_scores  # noqa: E402
from regime_summary import by_seed, plot_regimes, summarise  # noqa: E402
from run_arguments import add_run_arguments  # noqa: E402
from score_terms import learner_with_veto_weight, score_terms, separation, veto_weight_sweep  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ARMS = ("standard", "clean", "igf", "random", "oracle", "high_loss", "igf_target", "random_target", "standard_cosine",
        "igf_target_cosine", "dsir", "classifier", "igf_weighted", "igf_affinity", "dsir_affinity",
        "classifier_affinity", "random_affinity", "igf_affinity_cosine", "igf_veto2")
#: Arms whose keep rate is igf_target's in the same seed (so they run after it).
AT_TARGET_RATE = ("random_target", "dsir", "classifier")
#: The peers and random again at igf_affinity's (the default's) rate in the same seed.
AT_AFFINITY_RATE = ("dsir_affinity", "classifier_affinity", "random_affinity")
#: Target quantiles whose selection (kept share per source) is tabled for the learner and the oracle.
SELECTION_QUANTILES = (0.02, 0.05, 0.1, 0.2)


def machine() -> dict:
    return {"cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(), "cuda": torch.cuda.is_available()}


def contexts_from(stream: ContextStream, count: int, seed: int) -> torch.Tensor:
    return stream.sample(count, torch.Generator().manual_seed(seed))


def probe_all(model, objective: torch.Tensor, named: dict[str, torch.Tensor], cache: Path) -> dict:
    """(n, 2) fast-probe gains against the two objective halves for every named set, cached on disk.

    A cached set is reused only if it was probed on the same contexts and objective (a fingerprint of both;
    caches written before fingerprints are checked by length), so a cache left by other settings is re-probed,
    never silently paired with the wrong contexts."""
    labels = torch.load(cache) if cache.exists() else {}
    fingerprints = labels.get("_fingerprints", {})

    def fingerprint(contexts: torch.Tensor) -> str:
        return hashlib.sha256(contexts.numpy().tobytes() + objective.numpy().tobytes()).hexdigest()

    def cached(name: str, contexts: torch.Tensor) -> bool:
        if name not in labels or len(labels[name]) != len(contexts):
            return False
        return name not in fingerprints or fingerprints[name] == fingerprint(contexts)

    todo = {name: contexts for name, contexts in named.items() if not cached(name, contexts)}
    if todo:
        probe = FastInformationGainProbe(model, objective, objective_parts=2)
        for name, contexts in todo.items():
            labels[name] = probe.score_parts(contexts, progress=True)
            fingerprints[name] = fingerprint(contexts)
            labels["_fingerprints"] = fingerprints
            cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save(labels, cache)
    return {name: labels[name] for name in named}


def reliability(halves: torch.Tensor) -> dict:
    """Split-half Spearman of the labels and its Spearman-Brown step-up: what a perfect learner reaches."""
    rho = float(spearmanr(halves[:, 0].numpy(), halves[:, 1].numpy())[0])
    return {"split_half_spearman": rho, "ceiling_spearman_brown": 2 * rho / (1 + rho) if rho > -1 else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="Target corpus (kjv).")
    parser.add_argument("--off-target", required=True, help="Off-target corpus mixed into R1 (pydocs).")
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--regimes", default="R1,R3,R0")
    parser.add_argument("--arms", default=",".join(ARMS))
    add_run_arguments(parser, seeds=10, eval_every=5, first_seed=False)
    parser.add_argument("--build-pairs", type=int, default=600, help="Probed pairs each regime's learner is built on.")
    parser.add_argument("--pool-target", type=int, default=800, help="kjv contexts in each fine-tuning pool.")
    parser.add_argument("--off-fraction", type=float, default=0.5)
    parser.add_argument("--junk-fraction", type=float, default=0.3)
    parser.add_argument("--keep", type=float, default=0.5, help="Fraction igf, oracle and high_loss keep.")
    parser.add_argument("--head", default="bag_of_tokens", help="Head of the learner the igf arm uses.")
    parser.add_argument("--target-quantile", type=float, default=DEFAULT_TARGET_QUANTILE,
                        help="igf_target's threshold: the quantile of held-out target text's scores.")
    parser.add_argument("--sharpness", type=float, default=DEFAULT_SHARPNESS,
                        help="igf_weighted's inverse temperature: each loss weighted by softmax(sharpness x score).")
    parser.add_argument("--out", default=str(RESULTS / "regimes.json"))
    parser.add_argument("--cache", default=".runs/regimes_labels.pt", help="Probe labels, reused by --resume.")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (two 1-thread runs side by side "
                                                                  "use 2 cores better than one 2-thread run).")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    out = Path(args.out)
    regimes = args.regimes.split(",")
    arms = [a for a in ARMS if a in args.arms.split(",")]

    model, tokenizer, ref = load_base_model(args.base_model)
    target, off = load_corpus(args.target), load_corpus(args.off_target)
    config = BuildConfig(objective_size=args.objective_size, test_size=args.test_size, seed=0, pairs=args.build_pairs,
                         head=HeadTrainingConfig(head=args.head))
    _, split = split_corpus(target, tokenizer, config)
    off_stream = ContextStream(split_corpus(off, tokenizer, BuildConfig(objective_size=1, test_size=1))[0].documents,
                               config.context_length)
    n_off_ft = round(args.pool_target * args.off_fraction / (1 - args.off_fraction))
    n_junk_ft = round(args.pool_target * args.junk_fraction / (1 - args.junk_fraction))
    kjv_build = contexts_from(split.train, args.build_pairs, 11)
    kjv_ft = contexts_from(split.train, args.pool_target, 12)
    named = {"kjv_build": kjv_build, "kjv_ft": kjv_ft}
    if "R1" in regimes:
        named.update(off_build=contexts_from(off_stream, args.build_pairs, 13),
                     off_ft=contexts_from(off_stream, n_off_ft, 14))
    if "R3" in regimes:
        named.update(junk_build=junk_contexts(kjv_build, tokenizer, args.build_pairs, seed=15),
                     junk_ft=junk_contexts(kjv_ft, tokenizer, n_junk_ft, seed=16))
    labels = probe_all(model, split.objective, named, Path(args.cache))

    def regime_pools(regime: str) -> tuple[Pool, Pool, torch.Tensor, torch.Tensor]:
        """(build pool, fine-tuning pool, their labels): kjv plus the regime's other text, shuffled."""
        other, fraction = {"R0": (None, 0.0), "R1": ("off", args.off_fraction),
                           "R3": ("junk", args.junk_fraction)}[regime]
        pools = []
        for part, seed in (("build", 21), ("ft", 22)):
            own, own_labels = named[f"kjv_{part}"], labels[f"kjv_{part}"]
            others, other_labels = own[:0], own_labels[:0]
            if other is not None:
                others, other_labels = named[f"{other}_{part}"], labels[f"{other}_{part}"]
            if part == "build":  # the learner's pairs: build_pairs in all, in the regime's mix
                n_own = round(len(own) * (1 - fraction))
                own, own_labels = own[:n_own], own_labels[:n_own]
                others, other_labels = others[:args.build_pairs - n_own], other_labels[:args.build_pairs - n_own]
            order = torch.randperm(len(own) + len(others), generator=torch.Generator().manual_seed(seed))
            is_target = torch.cat([torch.ones(len(own), dtype=torch.bool), torch.zeros(len(others), dtype=torch.bool)])
            pools.append((Pool(torch.cat([own, others])[order], is_target[order]),
                          torch.cat([own_labels, other_labels])[order]))
        (build, build_labels), (ft, ft_labels) = pools
        return build, ft, build_labels, ft_labels

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else {}
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date": dt.date.today().isoformat(),
               "machine": machine(), "base_model": ref.model_id, "target": target.name, "off_target": off.name,
               "protocol": {"context_length": config.context_length, "objective_size": args.objective_size,
                            "test_size": args.test_size, "batch_size": args.batch_size, "lr": args.lr,
                            "steps": args.steps, "eval_every": args.eval_every, "keep": args.keep,
                            "build_pairs": args.build_pairs, "pool_target": args.pool_target,
                            "off_fraction": args.off_fraction, "junk_fraction": args.junk_fraction,
                            "head": args.head, "target_quantile": args.target_quantile,
                            "sharpness": args.sharpness},
               "commands": [*earlier.get("commands", []), " ".join([Path(sys.executable).name, *sys.argv])],
               "regimes": earlier.get("regimes", {}), "runs": earlier.get("runs", {})}
    learners, peers = {}, {}
    target_held_out = contexts_from(split.train, 1024, 17)   # target text to place the target quantile
    target_gains = labels["kjv_build"].mean(1)               # the oracle's view of target text
    for regime in regimes:
        build, ft, build_labels, ft_labels = regime_pools(regime)
        gains = ft_labels.mean(1)
        top = gains >= torch.quantile(gains, 1 - args.keep)
        info = results["regimes"].setdefault(regime, {})
        info.update(pool_contexts=len(ft), pool_target_fraction=ft.target_fraction, build_pairs=len(build),
                    build_target_fraction=build.target_fraction, labels=reliability(build_labels),
                    oracle_target_share_of_kept=float(ft.is_target[top].float().mean()), learners={})
        for head in ("conv", "bag_of_tokens"):
            head_config = BuildConfig(**{**config.to_dict(), "head": HeadTrainingConfig(head=head)})
            learner = learner_from_pairs(model, tokenizer, ref, build.contexts, build_labels.mean(1),
                                         config=head_config,
                                         probe=ProbeInfo(name="fast", extra={"objective_parts": 2}),
                                         target=CorpusInfo(name=target.name, fingerprint=target.fingerprint),
                                         pool=CorpusInfo(name=f"{regime}-pool"), calibration=ft.contexts,
                                         target_calibration=target_held_out)
            scores = learner.score(ft.contexts)
            kept = scores >= InformationGainFilter(learner, TopFraction(args.keep)).threshold.at(0)
            info["learners"][head] = {
                **{k: learner.metadata.metrics[k] for k in ("test_spearman", "validation_spearman", "test_mse")},
                "spearman_on_pool": float(spearmanr(scores.numpy(), gains.numpy())[0]),
                "kept_fraction_of_pool": float(kept.float().mean()),
                "target_share_of_kept": float(ft.is_target[kept].float().mean()) if kept.any() else None,
                "target_quantile_selection": {str(q): selection(scores, learner.target_score_quantile(q), ft.is_target)
                                              for q in SELECTION_QUANTILES}}
            if head == args.head:
                # The library's own target affinity (`--threshold affinity`), fitted as `build --target` does: the
                # target's training text against the learner's probed build pool.
                attach_target_affinity(learner, tokenizer, split, build.contexts, target_held_out, head_config)
                info["learners"][head]["affinity_quantile_selection"] = {
                    str(q): selection(learner.affinity_score(ft.contexts), learner.affinity_quantile(q), ft.is_target)
                    for q in SELECTION_QUANTILES}
                # Which term tells the target from the rest of this pool, by ranking alone (None on R0), and
                # what the default's cut would keep with heavier vetoes (score_terms.py).
                pool_terms, is_target = score_terms(learner, tokenizer, ft.contexts), ft.is_target.numpy()
                info["learners"][head]["term_auc_target_vs_other"] = separation(pool_terms, is_target)
                info["learners"][head]["veto_weight_sweep"] = veto_weight_sweep(
                    pool_terms, score_terms(learner, tokenizer, target_held_out), learner.metadata.metrics,
                    {"target": is_target, "other": ~is_target})
                learners[regime] = (learner, ft, gains)
        info["oracle_target_quantile_selection"] = {
            str(q): selection(gains, float(torch.quantile(target_gains, q)), ft.is_target) for q in SELECTION_QUANTILES}
        if {"dsir", "classifier", "dsir_affinity", "classifier_affinity"} & set(arms):
            texts = tokenizer.batch_decode(ft.contexts)
            target_texts = tokenizer.batch_decode(target_held_out)
            peers[regime] = {"dsir": dsir_scores(texts, target_texts),
                             "classifier": classifier_scores(texts, target_texts,
                                                             tokenizer.batch_decode(build.contexts))}
            # What each peer keeps at the default's rate on this pool, beside what the default keeps.
            rate = info["learners"][args.head]["affinity_quantile_selection"][str(DEFAULT_TARGET_QUANTILE)]
            info["peers_at_default_rate"] = {
                name: selection(scores, float(torch.quantile(scores.float(), 1 - rate["kept_fraction_of_pool"])),
                                ft.is_target) for name, scores in peers[regime].items()}
            info["peers_auc_target_vs_other"] = separation(
                {name: scores.double().numpy() for name, scores in peers[regime].items()}, ft.is_target.numpy())
    write(results, out)

    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    finetune_config = dict(steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every)
    test = split.test
    veto2_learners: dict = {}   # igf_veto2's learner per regime, recalibrated once (score_terms.py)

    def veto2_learner(regime: str, learner):
        if regime not in veto2_learners:
            veto2_learners[regime] = learner_with_veto_weight(learner, tokenizer, target_held_out, 2.0)
        return veto2_learners[regime]

    for seed in range(args.seeds):
        for regime in regimes:
            learner, ft, gains = learners[regime]
            runs = results["runs"].setdefault(regime, {})
            for arm in arms:
                if regime == "R0" and arm in ("standard", "high_loss"):
                    continue  # R0's pool is the clean target: its standard arm is `clean`
                store = results["runs"].setdefault("shared", {}) if arm == "clean" else runs
                if seed in by_seed(store.get(arm, [])):
                    continue
                if arm == "random" and seed not in by_seed(runs.get("igf", [])):
                    continue  # its rate comes from igf's run with the same seed
                if arm in AT_TARGET_RATE and seed not in by_seed(runs.get("igf_target", [])):
                    continue  # its rate comes from igf_target's run with the same seed
                if arm in AT_AFFINITY_RATE and seed not in by_seed(runs.get("igf_affinity", [])):
                    continue  # its rate comes from igf_affinity's run with the same seed
                if regime == "R0" and arm in ("standard_cosine", "igf_affinity_cosine", "dsir", "classifier",
                                              *AT_AFFINITY_RATE):
                    continue  # no off-target text to find (and R0's decayed baseline would be clean's)
                if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
                    return finish(results, out, started)
                pool = ft.target_only() if arm == "clean" else ft.contexts
                # Each arm's filter is built only when that arm runs (a lambda), in this iteration: the loop's
                # variables are bound as defaults all the same.
                context_filter = {
                    "standard": None, "clean": None,
                    "igf": lambda learner=learner: InformationGainFilter(learner, TopFraction(args.keep)),
                    "random": lambda runs=runs, seed=seed: RandomFilter(by_seed(runs["igf"])[seed]["acceptance_rate"],
                                                                        seed=seed),
                    "oracle": lambda ft=ft, gains=gains: OracleFilter(ft.contexts, gains, keep=args.keep),
                    "high_loss": lambda: HighLossFilter(args.keep),
                    "igf_target": lambda learner=learner: InformationGainFilter(
                        learner, TargetQuantile(args.target_quantile)),
                    "igf_target_cosine": lambda learner=learner: InformationGainFilter(
                        learner, TargetQuantile(args.target_quantile)),
                    "standard_cosine": None,
                    "igf_weighted": lambda learner=learner: GainWeighting(learner, args.sharpness),
                    "igf_affinity": lambda learner=learner: InformationGainFilter(
                        learner, AffinityQuantile(args.target_quantile)),
                    "igf_affinity_cosine": lambda learner=learner: InformationGainFilter(
                        learner, AffinityQuantile(args.target_quantile)),
                    "igf_veto2": lambda learner=learner, regime=regime: InformationGainFilter(   # vetoes x2
                        veto2_learner(regime, learner), AffinityQuantile(args.target_quantile)),
                    "random_affinity": lambda runs=runs, seed=seed: RandomFilter(affinity_rate(runs, seed), seed=seed),
                    "random_target": lambda runs=runs, seed=seed: RandomFilter(target_rate(runs, seed), seed=seed),
                    "dsir": lambda ft=ft, regime=regime, runs=runs, seed=seed: OracleFilter(
                        ft.contexts, peers[regime]["dsir"], keep=target_rate(runs, seed)),
                    "classifier": lambda ft=ft, regime=regime, runs=runs, seed=seed: OracleFilter(
                        ft.contexts, peers[regime]["classifier"], keep=target_rate(runs, seed)),
                    "dsir_affinity": lambda ft=ft, regime=regime, runs=runs, seed=seed: OracleFilter(
                        ft.contexts, peers[regime]["dsir"], keep=affinity_rate(runs, seed)),
                    "classifier_affinity": lambda ft=ft, regime=regime, runs=runs, seed=seed: OracleFilter(
                        ft.contexts, peers[regime]["classifier"], keep=affinity_rate(runs, seed)),
                }[arm]
                context_filter = context_filter() if callable(context_filter) else context_filter
                print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} {regime} {arm}", flush=True)
                record = run_arm(model, initial, pool, test, context_filter, FinetuneConfig(
                    **finetune_config, seed=seed, lr_schedule="cosine" if arm.endswith("_cosine") else "constant"))
                store.setdefault(arm, []).append(record)
                results["summary"] = summarise(results)
                write(results, out)
                plot_regimes(results, out.parent)
    return finish(results, out, started)


def run_arm(model, initial: dict, contexts: torch.Tensor, test: torch.Tensor, context_filter,
            config: FinetuneConfig) -> dict:
    """One paired run: fine-tune on `contexts` from the `initial` weights, restore them, return the run's record
    (per-step losses left out)."""
    result = finetune(model, ContextStream(list(contexts), contexts.shape[1]), test, context_filter, config)
    model.load_state_dict(initial)
    torch.set_grad_enabled(True)
    record = result.to_dict()
    record.pop("train_loss", None)
    record["seed"] = config.seed
    return record


def selection(scores: torch.Tensor, cut: float, is_target: torch.Tensor) -> dict:
    """What a cut keeps: of the pool, of its target contexts, of the rest, and the target share of what is kept."""
    kept = scores >= cut
    other = ~is_target
    return {"cut": cut, "kept_fraction_of_pool": float(kept.float().mean()),
            "kept_of_target": float(kept[is_target].float().mean()) if is_target.any() else None,
            "kept_of_other": float(kept[other].float().mean()) if other.any() else None,
            "target_share_of_kept": float(is_target[kept].float().mean()) if kept.any() else None}


def target_rate(runs: dict, seed: int) -> float:
    return by_seed(runs["igf_target"])[seed]["acceptance_rate"]


def affinity_rate(runs: dict, seed: int) -> float:
    return by_seed(runs["igf_affinity"])[seed]["acceptance_rate"]


def finish(results: dict, out: Path, started: float) -> int:
    results["summary"] = summarise(results)
    results["wall_minutes_this_invocation"] = round((time.perf_counter() - started) / 60, 1)
    write(results, out)
    plot_regimes(results, out.parent)
    print(json.dumps(results["summary"], indent=1)[:4000])
    return 0


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(out)


if __name__ == "__main__":
    sys.exit(main())
