"""The `learnerhub` command line: build learners, fine-tune with them, and (from `registry`) share them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import constants
from .errors import LearnerHubError

SAMPLE_CORPUS = Path(__file__).parent / "data" / "kjv-sample.jsonl.gz"


def _add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default=str(SAMPLE_CORPUS),
                        help="JSONL ({\"text\": ...} a line, .gz allowed), a text file (blank lines separate documents), "
                             "a folder of .txt/.md files, or a `datasets` folder/.parquet/.csv/.arrow file. "
                             "Default: the bundled King James Bible sample (149 chapters, public domain).")
    parser.add_argument("--corpus-name", help="Name the learner is published under (default: the file name).")
    parser.add_argument("--text-field", default="text", help="JSON field or dataset column holding the text.")
    parser.add_argument("--base-model", default=constants.SMOLLM2_ALIAS,
                        help="`smollm2` (the bundled SmolLM2-135M-Instruct), a local transformers model folder, "
                             "or a Hub id already in your Hugging Face cache.")
    parser.add_argument("--context-length", type=int, default=constants.DEFAULT_CONTEXT_LENGTH,
                        help="Tokens per context (paper: 32).")
    parser.add_argument("--objective-size", type=int, default=constants.DEFAULT_OBJECTIVE_SIZE,
                        help="Held-out documents in the objective set, one context each (paper: 100).")
    parser.add_argument("--test-size", type=int, default=constants.DEFAULT_OBJECTIVE_SIZE,
                        help="Held-out documents in the test set, one context each.")
    parser.add_argument("--seed", type=int, default=0, help="Seed for the split, the sampling and the training.")


def _add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probe", choices=["exact", "fast"], default="fast",
                        help="exact: one AdamW step + objective-set evaluation per context (the paper); fast: "
                             "first-order batched estimate (default, >10x faster on CPU).")
    parser.add_argument("--pairs", type=int, default=480, help="Contexts to probe (training pairs).")
    parser.add_argument("--probe-layers", type=int, default=None,
                        help="fast probe only: use the linear layers of the top N blocks (default: all).")
    parser.add_argument("--probe-batch-size", type=int, default=16, help="Contexts per probe batch.")
    parser.add_argument("--learner-lr", type=float, default=None, help="Learning rate of the learner's head.")
    parser.add_argument("--learner-epochs", type=int, default=None, help="Most epochs to train the head.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnerhub",
        description="Secondary learners that choose which examples a language model should fine-tune on.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="Build an IGF learner for a corpus and base model.",
                                description="Probe the information gain of sampled contexts, train the learner "
                                            "on them, and write a learner folder.")
    _add_corpus_arguments(build)
    build.add_argument("--out", required=True, help="Folder to write the learner to (replaced if it exists).")
    _add_build_arguments(build)
    build.set_defaults(handler=run_build)

    tune = commands.add_parser("finetune", help="Fine-tune with and without a learner, side by side.",
                               description="Fine-tune the base model on the corpus (standard), and again from the "
                                           "same weights with the learner filtering contexts; print test "
                                           "perplexity of both.")
    _add_corpus_arguments(tune)
    tune.add_argument("--learner", default="none",
                      help="A learner folder, `none` (standard fine-tuning only), or `auto` (pull the corpus' "
                           "learner from the store; build and publish one when there is none).")
    tune.add_argument("--steps", type=int, default=constants.DEFAULT_STEPS, help="Optimizer steps (paper: 60).")
    tune.add_argument("--batch-size", type=int, default=constants.DEFAULT_BATCH_SIZE, help="Contexts per step.")
    tune.add_argument("--lr", type=float, default=constants.DEFAULT_LEARNING_RATE, help="AdamW learning rate.")
    tune.add_argument("--eval-every", type=int, default=constants.DEFAULT_EVAL_EVERY,
                      help="Measure test perplexity every N steps.")
    tune.add_argument("--threshold", default="shifting",
                      help="shifting[:START,END,STEP] (paper: +1 sd, then -1 after step 10) or constant[:VALUE].")
    tune.add_argument("--plot", help="Write a PNG of test perplexity against step here.")
    tune.add_argument("--json", action="store_true", help="Print the results as JSON instead of a table.")
    _add_build_arguments(tune)  # used by --learner auto when the store has no learner yet
    tune.set_defaults(handler=run_finetune)

    from registry.cli import add_commands, add_store_arguments

    add_store_arguments(tune)
    add_commands(commands)
    return parser


def _load(args):
    from .base_models import load_base_model
    from .corpus import load_corpus

    corpus = load_corpus(args.corpus, name=args.corpus_name, text_field=args.text_field)
    model, tokenizer, ref = load_base_model(args.base_model)
    return corpus, model, tokenizer, ref


def _build_config(args):
    from .build import BuildConfig
    from .training import HeadTrainingConfig

    head = HeadTrainingConfig(seed=args.seed)
    if args.learner_lr:
        head.lr = args.learner_lr
    if args.learner_epochs:
        head.max_epochs = args.learner_epochs
    return BuildConfig(probe=args.probe, pairs=args.pairs, objective_size=args.objective_size,
                       test_size=args.test_size, context_length=args.context_length, seed=args.seed,
                       probe_batch_size=args.probe_batch_size, probe_layers=args.probe_layers, head=head)


def run_build(args) -> int:
    from .build import build_information_gain_learner
    from .distributed import make_accelerator

    accelerator = make_accelerator()
    corpus, model, tokenizer, ref = _load(args)
    learner = build_information_gain_learner(model, tokenizer, corpus, ref, _build_config(args),
                                             accelerator=accelerator, progress=True)
    if accelerator.is_main_process:
        folder = learner.save(args.out)
        metrics = learner.metadata.metrics
        print(f"Wrote {learner.kind} learner for corpus {corpus.name!r} on {ref.model_id} to {folder}\n"
              f"  pairs {metrics['pairs']}, probe {learner.metadata.probe['name']} ({metrics['probe_seconds']:.1f} s), "
              f"held-out Spearman {metrics['test_spearman']:.3f}, MSE {metrics['test_mse']:.3f}")
    return 0


def run_finetune(args) -> int:
    from .build import split_corpus
    from .comparison import compare_filters, comparison_table
    from .filters import InformationGainFilter, parse_threshold
    from .finetuning import FinetuneConfig
    from .loading import load_learner

    threshold = parse_threshold(args.threshold)
    corpus, model, tokenizer, ref = _load(args)
    filters = {"standard": None}
    learner = None
    if args.learner == "auto":
        from registry.auto import pull_or_build

        learner = pull_or_build(corpus, model, tokenizer, ref, _build_config(args), store=args.store,
                                endpoint=args.endpoint, progress=True)
    elif args.learner != "none":
        learner = load_learner(args.learner, model, tokenizer)
    if learner is not None:
        filters["igf"] = InformationGainFilter(learner, threshold)
    _, split = split_corpus(corpus, tokenizer, _build_config(args))
    config = FinetuneConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every,
                            seed=args.seed)
    results = compare_filters(model, split, filters, config, progress=not args.json)
    if args.plot:
        from .plots import plot_perplexity_curves

        plot_perplexity_curves({name: [r.evaluations] for name, r in results.items()}, args.plot,
                               title=f"{corpus.name} on {ref.model_id}")
    if args.json:
        print(json.dumps({"corpus": corpus.name, "base_model": ref.model_id,
                          "results": {name: r.to_dict() for name, r in results.items()}}, indent=2))
    else:
        print(comparison_table(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except LearnerHubError as error:
        print(f"learnerhub: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
