"""Score corpus shards with a learner into one Parquet file per shard, resumably, on every core.

Why: scoring a corpus is a data-pipeline step that runs for hours and gets killed; it must hold constant
memory whatever the corpus size (documents are streamed in batches, one Parquet row group per batch),
never redo a finished shard, and let one damaged shard fail alone. A shard's scores are written to a
`.partial` file renamed into place when complete, then a manifest (`<shard>.scores.json`) records the
learner's identity and the shard's size and mtime: a finished shard is skipped only when both still
match, so a different learner or a changed shard is scored again. A killed run loses the shards in flight.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cards.format.errors import UsageError
from cards.format.metadata import learnerhub_version

from ..corpora.shard_reader import iter_shard
from ..errors import CorpusError
from ..learner import SCORES, Learner
from .scoring_learner import learner_identity, load_scoring_learner

SCORES_SUFFIX = ".scores.parquet"
MANIFEST_SUFFIX = ".scores.json"
#: `score` is the document's score (the mean over its contexts of the score chosen with `score_shards(score=...)`:
#: by default what the learner's default threshold cuts, recorded as the manifest's `default_threshold`); `index` is its
#: position in the shard, what `learnerhub filter` lines scores up with; `tokens` is null for a text-level kind.
SCHEMA = pa.schema([("index", pa.int64()), ("id", pa.string()), ("score", pa.float64()), ("score_mean", pa.float64()),
                    ("score_max", pa.float64()), ("contexts", pa.int64()), ("tokens", pa.int64())])


@dataclass(frozen=True)
class ScoreJob:
    """One shard to score: where it is, where its scores go, and which learner scores it."""

    shard: str
    out: str
    learner_folder: str
    learner_identity: str
    text_field: str = "text"
    batch_size: int = 512
    score: str = "default"   # `Learner.score_documents`' score: "default" (what the default threshold cuts) or "gain"


@dataclass
class ShardResult:
    shard: str
    documents: int = 0
    tokens: int = 0
    seconds: float = 0.0
    skipped: bool = False     # finished by an earlier run
    error: str | None = None  # why the shard failed (a damaged shard); the others go on


def shard_outputs(out: str | Path, shard: str | Path) -> tuple[Path, Path]:
    """(scores file, manifest) of `shard` in `out`, named after the shard's file name."""
    name = Path(shard).name
    return Path(out) / f"{name}{SCORES_SUFFIX}", Path(out) / f"{name}{MANIFEST_SUFFIX}"


def shard_signature(shard: str | Path) -> dict:
    """Size and mtime of a shard file (of its newest file, for a folder): a changed shard is scored again."""
    path = Path(shard)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [p.stat() for p in files]
    return {"size": sum(s.st_size for s in stats), "mtime_ns": max((s.st_mtime_ns for s in stats), default=0)}


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_finished(job: ScoreJob) -> bool:
    """Whether an earlier run scored this shard completely, with this learner, as the shard is now."""
    scores, manifest_path = shard_outputs(job.out, job.shard)
    manifest = read_manifest(manifest_path)
    return (manifest is not None and scores.exists() and manifest.get("learner_identity") == job.learner_identity
            and manifest.get("text_field") == job.text_field and manifest.get("source") == shard_signature(job.shard)
            and manifest.get("score", "gain") == job.score)


def score_shard(learner: Learner, job: ScoreJob, on_tokens: Callable[[int], None] = lambda tokens: None) -> ShardResult:
    """Score one shard into its Parquet file and manifest; a damaged shard is a failed result, not an exception."""
    scores_path, manifest_path = shard_outputs(job.out, job.shard)
    partial = scores_path.with_name(scores_path.name + ".partial")
    result = ShardResult(job.shard)
    started = time.perf_counter()
    try:
        with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
            for batch in iter_shard(job.shard, text_field=job.text_field, batch_size=job.batch_size):
                scored = learner.score_documents(batch.texts, score=job.score)
                tokens = scored.tokens if scored.tokens is not None else [None] * len(batch)   # a text-level kind
                writer.write_table(pa.table({
                    "index": pa.array(batch.indices, pa.int64()), "id": pa.array(batch.ids, pa.string()),
                    "score": scored.mean, "score_mean": scored.mean, "score_max": scored.max,
                    "contexts": scored.contexts, "tokens": pa.array(tokens, pa.int64())}, schema=SCHEMA))
                batch_tokens = int(scored.tokens.sum()) if scored.tokens is not None else 0
                result.documents += len(batch)
                result.tokens += batch_tokens
                on_tokens(batch_tokens)
    except CorpusError as error:
        partial.unlink(missing_ok=True)
        result.error = str(error)
        return result
    os.replace(partial, scores_path)
    result.seconds = round(time.perf_counter() - started, 3)
    manifest = {"shard": str(Path(job.shard).resolve()), "source": shard_signature(job.shard),
                "scores": scores_path.name, "learner_identity": job.learner_identity,
                "learner": str(job.learner_folder), "learner_kind": learner.kind,
                "context_length": learner.context_length, "text_field": job.text_field, "score": job.score,
                "default_threshold": learner.default_cut() if job.score == "default" else None,
                "document_threshold": learner.default_document_cut() if job.score == "default" else None,
                "documents": result.documents, "tokens": result.tokens, "seconds": result.seconds,
                "learnerhub_version": learnerhub_version()}
    staging = manifest_path.with_name(manifest_path.name + ".partial")
    staging.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(staging, manifest_path)
    return result


def score_shards(learner_folder: str | Path, shards: Sequence[str | Path], out: str | Path, *,
                 base_model: str | None = None, workers: int | None = None, text_field: str = "text",
                 batch_size: int = 512, score: str = "default", progress: bool = True) -> list[ShardResult]:
    """Score every shard not finished yet, a process per shard (`workers`, default all cores).

    `score="default"` scores with what the learner's default threshold cuts (gain plus target affinity for a
    learner that carries one) and records that cut, so `filter_shards(threshold="default")` keeps what
    fine-tuning with the default would; `"gain"` is the bare predicted gain (cheaper for token-level kinds).

    Returns one result per shard, in the order given: skipped (finished before), scored, or failed.

    Example:
        >>> score_shards("igf-smollm2-kjv", ["part-0.jsonl.gz", "part-1.jsonl.gz"], "scores/")
    """
    missing = [str(s) for s in shards if not Path(s).exists()]
    if missing:
        more = f" (nor {len(missing) - 1} more)" if missing[1:] else ""
        raise UsageError(f"Shard {missing[0]!r} does not exist{more}; "
                         "pass existing corpus files or folders.")
    names = [Path(s).name for s in shards]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UsageError(f"Several shards are named {twice[0]!r}; their scores would share a file in {out}. "
                         "Give each input shard its own file name.")
    Path(out).mkdir(parents=True, exist_ok=True)
    identity = learner_identity(learner_folder)
    if score not in SCORES:
        raise UsageError(f"--score must be one of {', '.join(SCORES)}, not {score!r}.")
    jobs = [ScoreJob(str(s), str(out), str(learner_folder), identity, text_field, batch_size, score) for s in shards]
    results = {job.shard: ShardResult(job.shard, skipped=True) for job in jobs if is_finished(job)}
    pending = [job for job in jobs if job.shard not in results]
    if pending:
        learner = load_scoring_learner(learner_folder, base_model)   # checks learner and base model once, here
        workers = max(1, min(workers or os.cpu_count() or 1, len(pending)))
        with _progress_bar(progress, len(jobs) - len(pending), len(jobs)) as bar:
            if workers == 1:
                for job in pending:
                    results[job.shard] = _counted(score_shard(learner, job, bar.update), bar)
            else:
                del learner
                results.update(_score_in_processes(pending, base_model, workers, bar))
    return [results[job.shard] for job in jobs]


def _counted(result: ShardResult, bar) -> ShardResult:
    bar.shards_done += 1
    bar.set_postfix_str(f"shards {bar.shards_done}/{bar.shards_total}")
    return result


def _progress_bar(enabled: bool, done: int, total: int):
    from tqdm.auto import tqdm

    bar = tqdm(desc="scoring", unit="tok", unit_scale=True, disable=not enabled, smoothing=0.1)
    bar.shards_done, bar.shards_total = done, total
    bar.set_postfix_str(f"shards {done}/{total}")
    return bar


# One process per shard. Workers are spawned (never forked: torch and the tokenizer's threads do not
# survive a fork), load the learner once each, and report tokens to the parent's progress bar.
_worker_learner: Learner | None = None
_worker_queue = None


def _start_worker(learner_folder: str, base_model: str | None, threads: int, queue) -> None:
    global _worker_learner, _worker_queue
    import torch

    from transformers.utils import logging as transformers_logging

    os.environ["TOKENIZERS_PARALLELISM"] = "false"   # the processes are the parallelism
    torch.set_num_threads(threads)
    transformers_logging.disable_progress_bar()      # one progress bar, the parent's
    _worker_learner, _worker_queue = load_scoring_learner(learner_folder, base_model), queue


def _score_in_worker(job: ScoreJob) -> ShardResult:
    return score_shard(_worker_learner, job, _worker_queue.put)


def _score_in_processes(jobs: list[ScoreJob], base_model: str | None, workers: int, bar) -> dict[str, ShardResult]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results, failures = {}, []
    threads = max(1, (os.cpu_count() or 1) // workers)
    with context.Manager() as manager:
        queue = manager.Queue()
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                 initargs=(jobs[0].learner_folder, base_model, threads, queue)) as pool:
            running = {pool.submit(_score_in_worker, job): job for job in jobs}
            while running:
                done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(queue, bar)
                for future in done:
                    job = running.pop(future)
                    if future.exception() is not None:
                        failures.append(future.exception())
                        continue
                    results[job.shard] = _counted(future.result(), bar)
        _drain(queue, bar)
    if failures:   # a bug, not a damaged shard: the other shards finished, then it is raised
        raise failures[0]
    return results


def _drain(queue, bar) -> None:
    import queue as queues

    while True:
        try:
            bar.update(queue.get_nowait())
        except queues.Empty:
            return


def results_summary(results: list[ShardResult]) -> dict:
    """Totals for the command line: shards scored, skipped and failed, documents, tokens, tokens/s."""
    scored = [r for r in results if not r.skipped and r.error is None]
    seconds = sum(r.seconds for r in scored)
    tokens = sum(r.tokens for r in scored)
    return {"scored": len(scored), "skipped": sum(r.skipped for r in results),
            "failed": [asdict(r) for r in results if r.error is not None],
            "documents": sum(r.documents for r in scored), "tokens": tokens,
            "tokens_per_second": float(np.round(tokens / seconds, 1)) if seconds else None}
