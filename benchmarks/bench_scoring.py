"""Scoring throughput of `learnerhub score`, end to end, against the tokenizer and DSIR (issue 20 item 4).

Measures, on a corpus of --size-mb (default 1 GB) made reproducibly from the King James Bible and the
Python docs (repeated) as --shards plain JSONL shards in --work:
  1. the bare fast-tokenizer pass (SmolLM2's, batched as `score` batches), the reference speed; its token
     count is the corpus' size in tokens for every rate below;
  2. `learnerhub score` with a text-level learner (igf_text) and a token-level IGF learner (bag-of-tokens
     head), each on 1 and 2 worker processes pinned to as many cores: tokens/s per core (wall clock of the
     whole command, and of the shards alone) and the 2-process speed-up; both learners are built from a
     pool with --target, so the default score adds their target affinity (it reads the decoded text);
     each also with `--score gain` (its bare predicted gain). igf_text's gain scores the whole corpus; the
     slower scores score the first --subset-shards shards (rates are per token of what was scored);
  3. for the token-level learner, its time in the tokenizer's batch call against the rest (scoring), with
     each score;
  4. peak RSS of the text learner's one-worker run (gain) on 1 shard, on 10 linked copies of it (10x the data
     in shards of the same size) and on the corpus: memory should not grow with the corpus;
  5. DSIR (PyPI data-selection) scoring the first --dsir-mb of the corpus toward kjv, tokens/s, and each
     learner's speed relative to it;
  6. a profile of where a worker's time goes with each learner (reading, scoring, writing).
Goals (issue 20; reported, not asserted): text learner >= 1M tokens/s per core end to end; token-level
scoring <= 20% of the tokenizer's time; >= 1.8x on 2 processes; memory flat in corpus size.

Example (an idle machine with 2 or more cores; ~3 h at the smoke run's rates, most of it the 1-worker runs):
    python benchmarks/bench_scoring.py --kjv ../shared/corpora/kjv.jsonl.gz --pydocs ../shared/corpora/pydocs.jsonl.gz
Smoke run:
    python benchmarks/bench_scoring.py --size-mb 20 --out .runs/scoring_smoke.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))   # the sibling modules, when run as a script

from scoring_corpus import dsir_pass, load_tokenizer, make_corpus, read_documents, shard_texts, tokenizer_pass  # noqa: E402
from scoring_runs import ONE_THREAD, build_learner, profile_scoring, score_run, token_time_split  # noqa: E402

MB = 1 << 20
MEMORY_COPIES = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kjv", type=Path, default=Path("../shared/corpora/kjv.jsonl.gz"), help="The target corpus.")
    parser.add_argument("--pydocs", type=Path, default=Path("../shared/corpora/pydocs.jsonl.gz"),
                        help="The other corpus mixed in.")
    parser.add_argument("--size-mb", type=int, default=1024, help="Corpus size (default 1 GB).")
    parser.add_argument("--shards", type=int, default=8, help="Shards the corpus is written as.")
    parser.add_argument("--work", type=Path, default=Path(".runs/scoring"), help="Corpus, learners and scores.")
    parser.add_argument("--text-learner", type=Path, help="An igf_text learner folder (default: built here).")
    parser.add_argument("--token-learner", type=Path, help="A token-level igf learner folder (default: built here).")
    parser.add_argument("--pairs", type=int, default=60, help="Probed pairs of each learner built here.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker processes to compare.")
    parser.add_argument("--dsir-mb", type=int, default=32, help="Text DSIR scores (its rate needs no more).")
    parser.add_argument("--profile-batches", type=int, default=4, help="512-document batches profiled per learner.")
    parser.add_argument("--skip-memory-10x", action="store_true", help="Leave out the 10-copies memory run.")
    parser.add_argument("--subset-shards", type=int, default=2,
                        help="Shards the slower scores run on (the default scores, the token-level gain): their rates "
                             "are per token, the whole corpus is scored by the fastest path, igf_text's gain.")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scoring.json"))
    return parser.parse_args()


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine() -> dict:
    import torch

    return {"cores": os.cpu_count(), "cores_allowed": len(os.sched_getaffinity(0)), "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name")), platform.processor())}


def rates(run: dict, tokens: int) -> dict:
    """Tokens/s per core of a score run: over the whole command's wall clock (start-up and the learner's
    loading included) and over the shards' own scoring seconds (summed over workers: per core already)."""
    cores = max(1, min(run["workers"], len(run["cores"])))
    return {"tokens_per_second_per_core": round(tokens / run["wall_seconds"] / cores, 1),
            "tokens_per_second_per_core_shards_only": round(tokens / run["shard_seconds"], 1)}


def learner_runs(name: str, learner: Path, shards: list[Path], work: Path, workers: list[int], tokens: int,
                 score: str = "default") -> dict:
    """`learnerhub score` with `learner` on every worker count; the speed-up of the most workers over one."""
    found = {}
    for count in workers:
        say(f"{name}: learnerhub score --workers {count} --score {score} over {len(shards)} shards ...")
        run = score_run(learner, shards, work / f"scores-{name}-w{count}", count, score)
        run.update(rates(run, tokens))
        found[f"workers_{count}"] = run
        say(f"{name}: {count} worker(s) on cores {run['cores']}: {run['wall_seconds']:.1f} s wall, "
            f"{run['tokens_per_second_per_core']:,.0f} tokens/s per core end to end "
            f"({run['tokens_per_second_per_core_shards_only']:,.0f} shards only), peak RSS {run['peak_rss_mb']} MB")
    if 1 in workers and len(workers) > 1:
        most = max(workers)
        found["speedup"] = {"workers": most, "ratio": round(found["workers_1"]["wall_seconds"]
                                                              / found[f"workers_{most}"]["wall_seconds"], 3),
                            "cores_used": found[f"workers_{most}"]["cores"]}
        say(f"{name}: {most} workers are {found['speedup']['ratio']}x one")
    return found


def memory_runs(learner: Path, shards: list[Path], work: Path, corpus_run: dict, skip_10x: bool) -> dict:
    """Peak RSS of one worker scoring the first shard, 10 linked copies of it (10x the data, the same shard
    size), and the whole corpus (from its run): flat memory means the three agree."""
    found = {"1_shard": _memory_run(learner, shards[:1], work / "scores-memory-1x")}
    if not skip_10x:
        linked = work / "memory-10x"
        linked.mkdir(parents=True, exist_ok=True)
        copies = []
        for copy in range(MEMORY_COPIES):
            path = linked / f"copy-{copy:02d}-{shards[0].name}"
            if not path.is_symlink():
                path.symlink_to(shards[0].resolve())
            copies.append(path)
        say(f"memory: scoring {len(copies)} linked copies of one shard (10x) with one worker ...")
        found[f"{len(copies)}_shards"] = _memory_run(learner, copies, work / "scores-memory-10x")
    found[f"corpus_{len(shards)}_shards"] = {k: corpus_run[k] for k in
                                             ("shards", "peak_rss_mb", "peak_rss_one_process_mb")}
    say("memory: peak RSS " + ", ".join(f"{name} {run['peak_rss_mb']} MB" for name, run in found.items()))
    peaks = [run["peak_rss_mb"] for run in found.values()]
    found["growth_ratio_largest_to_smallest"] = round(max(peaks) / min(peaks), 3)
    return found


def _memory_run(learner: Path, shards: list[Path], out: Path) -> dict:
    run = score_run(learner, shards, out, 1, "gain")
    return {k: run[k] for k in ("shards", "wall_seconds", "documents", "peak_rss_mb", "peak_rss_one_process_mb")}


def goals(results: dict) -> dict:
    text = {name: results["learners"][name]["workers_1"]["tokens_per_second_per_core"]
            for name in ("igf_text", "igf_text_gain")}
    split = {score: found["scoring_share_of_tokenizer_time"]
             for score, found in results["token_level_time_split"].items()}
    speedups = {name: runs["speedup"]["ratio"] for name, runs in results["learners"].items() if "speedup" in runs}
    growth = results["memory"]["growth_ratio_largest_to_smallest"]
    return {"text_learner_1M_tokens_per_second_per_core": {"value": text,
                                                            "met": {k: v >= 1e6 for k, v in text.items()}},
            "token_scoring_at_most_20pct_of_tokenizer_time": {"value": split,
                                                              "met": {k: v <= 0.2 for k, v in split.items()}},
            "speedup_at_least_1.8x_on_2_processes": {"value": speedups,
                                                     "met": all(v >= 1.8 for v in speedups.values())},
            "memory_flat_in_corpus_size": {"value": growth, "met": growth <= 1.1,
                                           "rule": "largest peak RSS within 10% of the smallest"}}


def main() -> None:
    args = parse_args()
    os.environ.update(ONE_THREAD)   # the in-process passes (tokenizer, DSIR, profiles) on one core, as a worker
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    results = {"command": "python " + " ".join(sys.argv), "date": dt.datetime.now(dt.timezone.utc).isoformat(),
               "machine": machine(), "seeds": "none: the corpus is made deterministically; builds use seed 0"}
    say(f"corpus: {args.size_mb} MB as {args.shards} shards in {args.work / 'corpus'} ...")
    shards = make_corpus([args.kjv, args.pydocs], args.work / "corpus", args.size_mb, args.shards)
    tokenizer = load_tokenizer()
    say("tokenizer: the bare batched pass over the corpus ...")
    cached = args.work / "corpus" / "tokenizer_pass.json"   # the same corpus (corpus.json) needs no second pass
    recipe = (args.work / "corpus" / "corpus.json").read_text()
    earlier = json.loads(cached.read_text()) if cached.exists() else {}
    if earlier.get("recipe") == recipe:
        reference = earlier["pass"]
        say(f"tokenizer: reusing the pass measured at {earlier['measured_at']} on this corpus")
    else:
        reference = tokenizer_pass(tokenizer, shards)
        cached.write_text(json.dumps({"recipe": recipe, "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                                      "pass": reference}, indent=1) + "\n")
    tokens = reference["tokens"]
    results["corpus"] = {"size_mb": args.size_mb, "shards": len(shards), "bytes": sum(p.stat().st_size for p in shards),
                         "sources": [str(args.kjv), str(args.pydocs)], "format": "plain JSONL",
                         **{k: reference[k] for k in ("tokens", "documents", "text_bytes")}}
    results["tokenizer"] = {k: reference[k] for k in ("seconds", "tokens_per_second")}
    say(f"tokenizer: {tokens:,} tokens, {reference['tokens_per_second']:,.0f} tokens/s on one core")
    learners = {"igf_text": args.text_learner, "igf_bag_of_tokens": args.token_learner}
    for name, kind in (("igf_text", "igf_text"), ("igf_bag_of_tokens", "igf")):
        if learners[name] is None:
            say(f"building a small {kind} learner ({args.pairs} pairs) on the bundled samples ...")
            learners[name] = build_learner(kind, args.work / "learners" / name, args.pairs)
    results["learner_folders"] = {k: str(v) for k, v in learners.items()}
    subset = shards[:args.subset_shards]
    subset_tokens = sum(reference["tokens_per_shard"][:len(subset)])
    runs = {"igf_text_gain": (learners["igf_text"], "gain", shards, tokens),
            "igf_text": (learners["igf_text"], "default", subset, subset_tokens),
            "igf_bag_of_tokens_gain": (learners["igf_bag_of_tokens"], "gain", subset, subset_tokens),
            "igf_bag_of_tokens": (learners["igf_bag_of_tokens"], "default", subset, subset_tokens)}
    results["learners"] = {}
    for name, (folder, score, scored, count) in runs.items():
        results["learners"][name] = {"score": score, "shards": len(scored), "tokens": count,
                                     **learner_runs(name, folder, scored, args.work, args.workers, count, score)}
    say("token-level learner: tokenizer vs scoring time, one process ...")
    results["token_level_time_split"] = {score: token_time_split(learners["igf_bag_of_tokens"], shards[:1], score)
                                         for score in ("default", "gain")}
    for score, split in results["token_level_time_split"].items():
        say(f"token-level learner: scoring ({score}) is {split['scoring_share_of_tokenizer_time']:.1%} "
            "of the tokenizer's time")
    results["memory"] = memory_runs(learners["igf_text"], shards, args.work,
                                    results["learners"]["igf_text_gain"]["workers_1"], args.skip_memory_10x)
    say(f"DSIR: fitting toward {args.kjv.name} and scoring {args.dsir_mb} MB ...")
    target = [doc["text"] for doc in read_documents(args.kjv)]
    dsir = dsir_pass(shard_texts(shards, args.dsir_mb * MB), target, tokenizer)
    results["dsir"] = dsir
    results["speed_vs_dsir"] = {
        name: {"end_to_end": round(runs["workers_1"]["tokens_per_second_per_core"] / dsir["tokens_per_second"], 3),
               "shards_only": round(runs["workers_1"]["tokens_per_second_per_core_shards_only"]
                                    / dsir["tokens_per_second"], 3)}
        for name, runs in results["learners"].items()}
    say(f"DSIR: {dsir['tokens_per_second']:,.0f} tokens/s; learners relative to it: {results['speed_vs_dsir']}")
    say("profiling each learner's scoring ...")
    results["profile"] = {name: profile_scoring(folder, shards[0], args.work, args.profile_batches)
                          for name, folder in learners.items()}
    results["goals"] = goals(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"goals: { {k: v['met'] for k, v in results['goals'].items()} }")
    say(f"wrote {args.out}")


if __name__ == "__main__":
    main()
