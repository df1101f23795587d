"""Keep the documents of scored shards at a threshold, from their Parquet scores, without scoring again.

Why: choosing how much to keep is cheap and often redone, scoring is not; so filtering reads the scores
`score_shards` wrote and the shards themselves, in step (one batch of each at a time, matched by
position and id), and writes the kept documents in each shard's format. `--top F` is one threshold over
all shards: the score above which a fraction F of all scored documents lies (the score column alone is
read for it, 8 bytes a document). `--threshold default` is the learner's default threshold, recorded by
`score_shards` in each shard's manifest, so filtering keeps what fine-tuning with the default keeps. A
document without a score (empty: NaN) is never kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from cards.format.errors import UsageError

from ..corpora.shard_reader import iter_shard
from .score_shards import read_manifest, shard_outputs, shard_signature
from .shard_writers import KeptWriter, check_writable

SCORE_COLUMNS = ("score", "score_mean", "score_max")


@dataclass
class FilterResult:
    shard: str
    output: str
    documents: int
    kept: int


def scores_file(scores_dir: str | Path, shard: str | Path) -> Path:
    """The finished scores of `shard` in `scores_dir`; `UsageError` when it was not (completely) scored
    or has changed since."""
    path, manifest_path = shard_outputs(scores_dir, shard)
    manifest = read_manifest(manifest_path)
    if manifest is None or not path.exists():
        raise UsageError(f"{scores_dir} holds no finished scores for shard {Path(shard).name}: run "
                         f"`learnerhub score LEARNER --corpus {shard} --out {scores_dir}` first.")
    if manifest.get("source") != shard_signature(shard):
        raise UsageError(f"Shard {shard} changed after it was scored into {scores_dir} (size or mtime differ): "
                         "score it again.")
    try:
        pq.ParquetFile(path).close()
    except (OSError, ValueError) as error:   # pyarrow's ArrowInvalid is a ValueError
        raise UsageError(f"{path} is damaged ({str(error).splitlines()[0]}): delete it and its manifest, and score "
                         "the shard again.") from None
    return path


#: `--threshold` words -> (manifest key, what the cut is): the contexts' cut, or the one calibrated on documents.
RECORDED_CUTS = {"default": ("default_threshold", "default threshold"),
                 "documents": ("document_threshold", "document threshold")}


def recorded_default(scores_dir: str | Path, shards: Sequence[str | Path], name: str = "default") -> float:
    """The cut `name` ("default" or "documents") the scores of `shards` were made for (one learner,
    `score="default"`): the default's cut for contexts, or the same quantile of whole target documents."""
    key, what = RECORDED_CUTS[name]
    cuts = set()
    for shard in shards:
        manifest = read_manifest(shard_outputs(scores_dir, shard)[1]) or {}
        cut = manifest.get(key)
        if manifest.get("score", "gain") != "default" or cut is None:
            kind = manifest.get("learner_kind", "this")
            fix = ("score with --score default" if name == "default" else
                   "score with --score default a learner built by this learnerhub from a pool with --target")
            raise UsageError(f"The scores of {Path(shard).name} in {scores_dir} carry no {what} (scored "
                             f"with --score gain, by an older learnerhub, or a {kind} learner has none): {fix}, "
                             "or pass --threshold NUMBER or --top FRACTION.")
        cuts.add(float(cut))
    if len(cuts) > 1:
        raise UsageError(f"The shards in {scores_dir} were scored by learners with different {what}s "
                         f"({', '.join(f'{c:.4g}' for c in sorted(cuts))}); score them with one learner.")
    return cuts.pop()


def top_threshold(score_files: Sequence[Path], fraction: float, column: str = "score") -> float:
    """The score at or above which a fraction `fraction` of all documents in `score_files` lie."""
    if not 0 < fraction <= 1:
        raise UsageError(f"--top takes a fraction in (0, 1], not {fraction}.")
    values = np.concatenate([pq.read_table(path, columns=[column])[column].to_numpy(zero_copy_only=False)
                             for path in score_files]).astype(np.float64)
    values = values[~np.isnan(values)]
    if not len(values):
        raise UsageError("No document of these shards has a score (all empty?); nothing to keep.")
    return float(np.quantile(values, 1 - fraction, method="higher"))


def filter_shards(shards: Sequence[str | Path], scores_dir: str | Path, out: str | Path, *,
                  threshold: float | str | None = None, top: float | None = None, column: str = "score",
                  text_field: str = "text", batch_size: int = 4096) -> tuple[float, list[FilterResult]]:
    """Write the documents scoring at least `threshold` (or in the `top` fraction) of each shard to `out`.

    `threshold` is a number, "default" (the learner's default cut, from the scores' manifests) or "documents"
    (the default's cut calibrated on whole target documents, stricter on near-domain pages). Returns the
    threshold used and, per shard, how many documents were kept.

    Example:
        >>> filter_shards(["part-0.jsonl.gz"], "scores/", "kept/", top=0.5)
    """
    if (threshold is None) == (top is None):
        raise UsageError("Pass exactly one of --threshold and --top.")
    if column not in SCORE_COLUMNS:
        raise UsageError(f"--column must be one of {', '.join(SCORE_COLUMNS)}, not {column!r}.")
    for shard in shards:
        check_writable(shard)
    files = [scores_file(scores_dir, shard) for shard in shards]
    if top is not None:
        threshold = top_threshold(files, top, column)
    elif threshold in RECORDED_CUTS:
        threshold = recorded_default(scores_dir, shards, str(threshold))
    results = [_filter_shard(Path(shard), path, Path(out), threshold, column, text_field, batch_size)
               for shard, path in zip(shards, files)]
    return threshold, results


def _filter_shard(shard: Path, scores_path: Path, out: Path, threshold: float, column: str, text_field: str,
                  batch_size: int) -> FilterResult:
    scores = pq.ParquetFile(scores_path).iter_batches(batch_size=batch_size, columns=["index", "id", column])
    pending_ids: list[str] = []
    pending_scores = np.zeros(0)
    documents = 0
    with KeptWriter(shard, out) as writer:
        for batch in iter_shard(shard, text_field=text_field, batch_size=batch_size):
            while len(pending_ids) < len(batch):
                try:
                    more = next(scores)
                except StopIteration:
                    raise UsageError(f"{scores_path} has fewer rows than shard {shard} has documents: the shard "
                                     "changed after scoring; score it again.") from None
                pending_ids += more.column("id").to_pylist()
                pending_scores = np.concatenate([pending_scores, more.column(column).to_numpy(zero_copy_only=False)])
            ids, values = pending_ids[:len(batch)], pending_scores[:len(batch)]
            pending_ids, pending_scores = pending_ids[len(batch):], pending_scores[len(batch):]
            if ids != batch.ids:
                position = next(i for i, (a, b) in enumerate(zip(ids, batch.ids)) if a != b)
                raise UsageError(f"{scores_path} does not match shard {shard}: document {documents + position} has "
                                 f"id {batch.ids[position]!r}, the scores say {ids[position]!r}; score it again.")
            with np.errstate(invalid="ignore"):
                writer.write(batch, values >= threshold)
            documents += len(batch)
        if pending_ids or next(scores, None) is not None:
            raise UsageError(f"{scores_path} has more rows than shard {shard} has documents: score it again.")
    return FilterResult(str(shard), str(writer.target), documents, writer.kept)
