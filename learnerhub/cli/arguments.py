"""The arguments `build`, `finetune` and `eval` share: the corpora and split, the build, each kind's own flags.

Apart from the commands so that each command module reads only what it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import learners
from learnerhub.cli.inputs import choice_of, pair_count, positive_int
from learners import constants
from cards.format.constants import DEFAULT_KIND, SMOLLM2_ALIAS
from cards.format.kinds import learner_kind, learner_kinds

SAMPLE_DIR = Path(learners.__file__).parent / "data"   # the bundled samples are `learners` package data
SAMPLE_CORPUS = SAMPLE_DIR / "kjv-sample.jsonl.gz"
# The heads of an igf learner (learners.igf.head_training), without importing torch
HEAD_NAMES = ["bag_of_tokens", "conv"]


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", nargs="+", default=[str(SAMPLE_CORPUS)], metavar="CORPUS",
                        help="JSONL ({\"text\": ...} a line, .gz allowed), a text file (blank lines separate "
                             "documents), a folder of .txt/.md files, or a `datasets` folder/.parquet/.csv/.arrow "
                             "file; several are joined into one pool. Default: the bundled King James Bible sample "
                             f"(149 chapters in 815 passages, public domain; {SAMPLE_DIR} also holds a Python "
                             "documentation sample to mix in as off-target text).")
    parser.add_argument("--target", default=None,
                        help="The corpus fine-tuning should get better at (same formats as --corpus): the objective "
                             "and test sets come from its documents, the training contexts from --corpus (the pool "
                             "the filter screens), and the learner is published under its name. Default: --corpus "
                             "itself (the IGF paper's set-up).")
    parser.add_argument("--corpus-name", help="Name of --corpus (default: the file name).")
    parser.add_argument("--target-name", help="Name of --target, that the learner is published under "
                                              "(default: the file name).")
    parser.add_argument("--text-field", default="text", help="JSON field or dataset column holding the text.")
    parser.add_argument("--base-model", default=SMOLLM2_ALIAS,
                        help="`smollm2` (the bundled SmolLM2-135M-Instruct), a local transformers model folder, "
                             "or a Hub id already in your Hugging Face cache.")
    parser.add_argument("--context-length", type=positive_int, default=constants.DEFAULT_CONTEXT_LENGTH,
                        help="Tokens per context (paper: 32).")
    parser.add_argument("--objective-size", type=positive_int, default=constants.DEFAULT_OBJECTIVE_SIZE,
                        help="Held-out documents in the objective set, one context each (paper: 100).")
    parser.add_argument("--test-size", type=positive_int, default=constants.DEFAULT_OBJECTIVE_SIZE,
                        help="Held-out documents in the test set, one context each.")
    parser.add_argument("--seed", type=int, default=0, help="Seed for the split, the sampling and the training.")


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probe", type=choice_of(["exact", "fast"]), choices=["exact", "fast"], default="fast",
                        help="exact: one AdamW step + objective-set evaluation per context (the paper); fast: "
                             "first-order batched estimate (default, >10x faster on CPU).")
    parser.add_argument("--pairs", type=pair_count, default=480, help="Contexts to probe (training pairs).")
    parser.add_argument("--probe-layers", type=positive_int, default=None,
                        help="fast probe only: use the linear layers of the top N blocks (default: all).")
    parser.add_argument("--probe-batch-size", type=positive_int, default=16, help="Contexts per probe batch.")
    parser.add_argument("--head", type=choice_of(HEAD_NAMES), choices=HEAD_NAMES, default=None,
                        help="The learner's head: bag_of_tokens (ridge regression over hashed uni- and bigrams; "
                             "the default, it ranked held-out contexts as well or better in benchmarks) or conv "
                             "(the paper's convolutional head over the base model's embeddings).")
    parser.add_argument("--learner-lr", type=float, default=None, help="Learning rate of the learner's head.")
    parser.add_argument("--learner-epochs", type=positive_int, default=None, help="Most epochs to train the head.")


def add_kind_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The flags each registered kind adds to `command` (build, finetune, eval): its own, defined in its folder."""
    for name in learner_kinds():
        kind = learner_kind(name)
        if kind.has("cli_arguments"):
            kind.behaviour("cli_arguments")(parser, command)


def add_kind_argument(parser: argparse.ArgumentParser) -> None:
    """--kind, one of the learner kinds registered in `cards.format.kinds` (build and pull)."""
    parser.add_argument("--kind", type=choice_of(learner_kinds()), choices=learner_kinds(),
                        default=DEFAULT_KIND, help=f"Learner kind (default {DEFAULT_KIND}).")


def add_threshold_argument(parser: argparse.ArgumentParser) -> None:
    """--threshold, spelled as `learners.igf.thresholds.parse_threshold` reads it (finetune and eval)."""
    parser.add_argument("--threshold", default=constants.DEFAULT_THRESHOLD,
                        help=f"default[:QUANTILE] (the default, {constants.DEFAULT_TARGET_QUANTILE}: affinity:Q for a "
                             "learner built from a pool with --target, else target:Q), target[:QUANTILE] (keep a "
                             "context when the learner scores it at least like the lowest tenth of held-out target "
                             "text, so a clean pool keeps nearly everything and a junk-heavy one only what looks like "
                             "the target), affinity[:QUANTILE] (the same on predicted gain plus target-vs-pool "
                             "affinity: drops near-domain text that gain alone rates like the target), "
                             "top:FRACTION (keep that fraction of the pool the learner scores highest), "
                             "shifting[:START,END,STEP] (the paper: +1 sd, then -1 after step 10) or constant[:VALUE].")
