"""`learnerhub score | filter`: a learner as a data-pipeline step over corpus shards (learners/pipeline/)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from learnerhub.cli.inputs import positive_int


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `score` and `filter` on the `learnerhub` parser's subparsers."""
    score = subparsers.add_parser(
        "score", help="Score every document of corpus shards with a learner, into one Parquet file per shard.",
        description="Stream each shard (JSONL incl. .gz, text, a folder of text files, a `datasets` file or "
                    "folder) in batches and write OUT/<shard>.scores.parquet: index, id, score (the mean over the "
                    "document's contexts), score_mean, score_max, contexts, tokens. Resumable: a shard finished "
                    "with the same learner is skipped; a damaged shard fails alone (exit 2 at the end).")
    score.add_argument("learner", help="A learner folder, or a published learner ORG/NAME[@VERSION].")
    score.add_argument("--corpus", nargs="+", required=True, metavar="SHARD",
                       help="Input shards, one file or folder each.")
    score.add_argument("--out", required=True, help="Folder for the Parquet scores and their manifests.")
    score.add_argument("--base-model", default=None,
                       help="The learner's base model (default: the one recorded in its learner.json).")
    score.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                       help="Processes, one shard each (default: all cores).")
    score.add_argument("--text-field", default="text", help="JSON field or dataset column holding the text.")
    score.add_argument("--batch-size", type=positive_int, default=512, help="Documents per batch (and row group).")
    score.add_argument("--store", help="Local store to pull a published learner from.")
    score.add_argument("--endpoint", help="Hub-compatible endpoint to pull a published learner from.")
    score.add_argument("--score", choices=("default", "gain"), default="default",
                       help="default: what the learner's default threshold cuts (gain plus target affinity for a "
                            "learner built from a pool with --target), so `filter --threshold default` keeps what "
                            "fine-tuning keeps; gain: the bare predicted gain (faster for token-level kinds).")
    score.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    score.set_defaults(handler=run_score)

    keep = subparsers.add_parser(
        "filter", help="Write the documents of scored shards that pass a threshold, in each shard's format.",
        description="Read the scores `learnerhub score` wrote and keep the documents at or above --threshold, "
                    "or the --top fraction of all shards' documents; writes OUT/<shard> (JSONL lines unchanged, "
                    "text blocks, or the files of a folder). Re-thresholding does not score again.")
    keep.add_argument("--corpus", nargs="+", required=True, metavar="SHARD", help="The shards that were scored.")
    keep.add_argument("--scores", required=True, help="The --out folder of `learnerhub score`.")
    keep.add_argument("--out", required=True, help="Folder to write the kept documents to.")
    cut = keep.add_mutually_exclusive_group(required=True)
    cut.add_argument("--threshold", type=threshold_value, metavar="NUMBER|default|documents",
                     help="Keep documents scoring at least this; `default`: the learner's default threshold, as "
                          "fine-tuning uses it on contexts (recorded when scoring with --score default); "
                          "`documents`: the same quantile of whole target documents' scores, stricter on "
                          "near-domain pages (a learner built with --target by learnerhub 2026-12-04 or later).")
    cut.add_argument("--top", type=float, help="Keep this fraction (0-1] of all documents, the highest scoring.")
    keep.add_argument("--column", default="score", help="Score column: score (mean, default), score_mean or score_max.")
    keep.add_argument("--text-field", default="text", help="JSON field or dataset column holding the text.")
    keep.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    keep.set_defaults(handler=run_filter)


def threshold_value(text: str) -> float | str:
    """--threshold: a number, `default` or `documents`."""
    if text in ("default", "documents"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor `default` or `documents`") from None


def run_score(args: argparse.Namespace) -> int:
    from learners.pipeline.score_shards import results_summary, score_shards
    from learners.pipeline.scoring_learner import learner_folder

    folder = learner_folder(args.learner, store=args.store, endpoint=args.endpoint)
    results = score_shards(folder, args.corpus, args.out, base_model=args.base_model, workers=args.workers,
                           text_field=args.text_field, batch_size=args.batch_size, score=args.score,
                           progress=not args.json)
    summary = results_summary(results)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        rate = f", {summary['tokens_per_second']:,.0f} tokens/s" if summary["tokens_per_second"] else ""
        print(f"Scored {summary['scored']} shard(s) ({summary['documents']:,} documents, {summary['tokens']:,} tokens"
              f"{rate}), skipped {summary['skipped']} already finished, into {args.out}")
    for failed in summary["failed"]:
        print(f"learnerhub: error: shard {failed['shard']} failed: {failed['error']}", file=sys.stderr)
    return 2 if summary["failed"] else 0


def run_filter(args: argparse.Namespace) -> int:
    from learners.pipeline.filter_shards import filter_shards

    threshold, results = filter_shards(args.corpus, args.scores, args.out, threshold=args.threshold, top=args.top,
                                       column=args.column, text_field=args.text_field)
    documents, kept = sum(r.documents for r in results), sum(r.kept for r in results)
    if args.json:
        print(json.dumps({"threshold": threshold, "documents": documents, "kept": kept,
                          "shards": [vars(r) for r in results]}, indent=2))
        return 0
    for result in results:
        print(f"{result.shard}: kept {result.kept:,} of {result.documents:,} -> {result.output}")
    share = f" ({kept / documents:.1%})" if documents else ""
    print(f"Kept {kept:,} of {documents:,} documents{share} at {args.column} >= {threshold:.4g}")
    return 0

