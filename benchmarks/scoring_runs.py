"""The scoring benchmark's measurements of `learnerhub score` itself (bench_scoring.py).

- `build_learner`: a small learner of each kind on the bundled samples (`learnerhub build`): speed, not
  quality, is measured, so a few dozen probed pairs do.
- `score_run`: one `learnerhub score` command, as users run it, in a fresh --out folder, pinned to as many
  cores as it has workers (so tokens/s per core means what it says), its process tree's peak RSS sampled.
- `token_time_split`: where a token-level learner's time goes, the tokenizer's batch call against the rest.
- `profile_scoring`: the functions that take a learner's scoring time (cProfile), for the next speed-up.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

MB = 1 << 20
SAMPLES = Path(__file__).resolve().parent.parent / "learners" / "data"
#: One thread per worker: the processes are the parallelism (the fast tokenizer and torch would otherwise
#: spread one process over every core and "per core" would mean nothing).
ONE_THREAD = {"TOKENIZERS_PARALLELISM": "false", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


def learnerhub_command() -> list[str]:
    """The `learnerhub` console script of this interpreter's environment (the command users run)."""
    script = Path(sys.executable).with_name("learnerhub")
    return [str(script)] if script.exists() else [sys.executable, "-m", "learnerhub.cli"]


def build_learner(kind: str, out: Path, pairs: int) -> Path:
    """A `kind` learner (igf_text, or igf with the bag-of-tokens head) built on the bundled samples, once."""
    if (out / "learner.json").exists():
        return out
    samples = [str(SAMPLES / "kjv-sample.jsonl.gz"), str(SAMPLES / "pydocs-sample.jsonl.gz")]
    command = [*learnerhub_command(), "build", "--kind", kind, "--corpus", *samples, "--target", samples[0],
               "--base-model", "smollm2", "--pairs", str(pairs), "--objective-size", "16", "--test-size", "16",
               "--out", str(out)] + (["--head", "bag_of_tokens"] if kind == "igf" else [])
    subprocess.run(command, check=True, env={**os.environ, **ONE_THREAD}, stdout=subprocess.DEVNULL)
    return out


def pinned(cores: int) -> tuple[list[str], list[int]]:
    """A `taskset` prefix pinning a command to `cores` of the cores this process may use, and those cores
    (all of them, fewer than asked, when fewer are allowed: say so in the results)."""
    allowed = sorted(os.sched_getaffinity(0))[:cores]
    if shutil.which("taskset") is None:
        return [], allowed
    return ["taskset", "-c", ",".join(map(str, allowed))], allowed


class TreeMemory:
    """Peak RSS of a process and its descendants, sampled every 50 ms on a thread (psutil)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_total, self.peak_single = pid, 0, 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
            while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
                sizes = []
                for process in [root, *root.children(recursive=True)]:
                    try:
                        sizes.append(process.memory_info().rss)
                    except psutil.Error:
                        pass
                self.peak_total = max(self.peak_total, sum(sizes))
                self.peak_single = max(self.peak_single, max(sizes, default=0))
                time.sleep(0.05)
        except psutil.Error:
            return

    def result(self) -> dict:
        self._thread.join(timeout=1)
        return {"peak_rss_mb": round(self.peak_total / MB, 1),
                "peak_rss_one_process_mb": round(self.peak_single / MB, 1)}


def score_run(learner: Path, shards: list[Path], out: Path, workers: int, score: str = "default") -> dict:
    """One `learnerhub score --workers N --score S` over `shards` into a fresh `out`: wall and scoring seconds,
    memory."""
    shutil.rmtree(out, ignore_errors=True)   # a finished shard would be skipped: every run scores everything
    prefix, cores = pinned(workers)
    command = [*prefix, *learnerhub_command(), "score", str(learner), "--corpus", *map(str, shards),
               "--out", str(out), "--workers", str(workers), "--score", score, "--json"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **ONE_THREAD}, stdout=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    stdout, _ = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    manifests = [json.loads(p.read_text()) for p in sorted(out.glob("*.scores.json"))]
    return {"workers": workers, "cores": cores, "score": score, "shards": len(shards), "wall_seconds": round(wall, 3),
            "shard_seconds": round(sum(m["seconds"] for m in manifests), 3),
            "documents": sum(m["documents"] for m in manifests), **memory.result(),
            "summary": json.loads(stdout)}


class TimedTokenizer:
    """A tokenizer that adds the seconds of its batch calls to `seconds` (everything else passes through)."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer, self.seconds = tokenizer, 0.0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.tokenizer(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started

    def __getattr__(self, name: str):
        return getattr(self.tokenizer, name)


def token_time_split(learner_folder: Path, shards: list[Path], score: str = "default") -> dict:
    """In one process and thread: seconds in the tokenizer's batch call and in the rest of `score_documents`
    (cutting contexts, the head, aggregating) over `shards`; the rest's share of the tokenizer's time."""
    from learners.corpora.shard_reader import iter_shard
    from learners.pipeline.scoring_learner import load_scoring_learner

    learner = load_scoring_learner(learner_folder)
    timed = TimedTokenizer(learner._tokenizer)
    learner._tokenizer = timed
    total = 0.0
    tokens = 0
    for shard in shards:
        for batch in iter_shard(shard, batch_size=512):
            started = time.perf_counter()
            scored = learner.score_documents(batch.texts, score=score)
            total += time.perf_counter() - started
            tokens += int(scored.tokens.sum())
    rest = total - timed.seconds
    return {"tokens": tokens, "score_documents_seconds": round(total, 3), "tokenizer_seconds": round(timed.seconds, 3),
            "scoring_seconds": round(rest, 3), "scoring_share_of_tokenizer_time": round(rest / timed.seconds, 4),
            "tokenizer_share_of_total": round(timed.seconds / total, 4)}


def profile_scoring(learner_folder: Path, shard: Path, work: Path, batches: int, top: int = 14) -> dict:
    """Where `score_shard` (reading, scoring, Parquet writing: what each worker runs) spends its time on the
    first `batches` batches of `shard`: the `top` functions by own time (cProfile), and the shares of
    reading the shard, the learner's `score_documents` and the rest."""
    from learners.pipeline.score_shards import ScoreJob, learner_identity, score_shard
    from learners.pipeline.scoring_learner import load_scoring_learner

    piece = work / f"profile-{shard.name}"
    with shard.open() as source, piece.open("w") as handle:
        handle.writelines(line for _, line in zip(range(batches * 512), source))
    out = work / "scores-profile"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    learner = load_scoring_learner(learner_folder)
    job = ScoreJob(str(piece), str(out), str(learner_folder), learner_identity(learner_folder))
    profiler = cProfile.Profile()
    profiler.enable()
    score_shard(learner, job)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt

    def cumulative(name: str) -> float:
        return max((row[3] for (_, _, function), row in stats.stats.items() if function == name), default=0.0)

    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return {"documents": batches * 512, "seconds_profiled": round(total, 3),
            "shares": {"reading": round(min(1.0, cumulative("iter_shard") / total), 4),       # cProfile's own
                       "score_documents": round(min(1.0, cumulative("score_documents") / total), 4)},  # overhead: <= 1
            "top_own_time": [{"function": f"{Path(file).name}:{line}({name})", "own_seconds": round(own, 3),
                              "own_share": round(own / total, 4), "cumulative_seconds": round(cum, 3),
                              "calls": calls}
                             for (file, line, name), (_, calls, own, cum, _) in rows]}
