"""The `learnerhub` command line: build learners, fine-tune with them, and (from `registry`) share them."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from learnerhub.cli.errors import user_message
from learnerhub.cli.arguments import add_build_arguments, add_corpus_arguments, add_kind_argument
from learnerhub.cli.arguments import add_kind_arguments, add_threshold_argument
from learnerhub.cli.inputs import positive_int
from learnerhub.cli.output import GuardedOutput, discard_stdout
from learners import constants
from cards.format.errors import UsageError
from cards.format.metadata import learnerhub_version
from registry.errors import RegistryWarning

_default_show_warning = warnings.showwarning


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnerhub",
        description="Secondary learners that choose which examples a language model should fine-tune on.")
    parser.add_argument("--version", action="version", version=f"learnerhub {learnerhub_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build",
                                help="Build a learner (igf, igf_text or streaming) for a corpus and base model.",
                                description="igf: probe the information gain of sampled contexts and train the "
                                            "learner on them. streaming: fine-tune once over --examples contexts "
                                            "with the three-stage streaming filter and keep its loss threshold and "
                                            "meta predictor. igf_text: label contexts as igf does with --base-model, "
                                            "then train a head on their text, which works with any base model. "
                                            "Either way, write a learner folder.")
    add_corpus_arguments(build)
    add_kind_argument(build)
    build.add_argument("--out", required=True, help="Folder to write the learner to (replaced if it exists).")
    add_build_arguments(build)
    add_kind_arguments(build, "build")
    build.set_defaults(handler=run_build)

    tune = commands.add_parser("finetune", help="Fine-tune with and without a learner, side by side.",
                               description="Fine-tune the base model on the corpus (standard), and again from the "
                                           "same weights with the learner filtering contexts; print test "
                                           "perplexity of both.")
    add_corpus_arguments(tune)
    tune.add_argument("--learner", default="none",
                      help="A learner folder of either kind (igf: the IGF filter; streaming: the streaming filter "
                           "starting with the learner's threshold and predictor), `none` (standard fine-tuning "
                           "only), or `auto` (pull the corpus' IGF learner from the store; build and publish one "
                           "when there is none).")
    tune.add_argument("--steps", type=positive_int, default=constants.DEFAULT_STEPS,
                      help="Optimizer steps (paper: 60).")
    tune.add_argument("--contexts", type=positive_int, default=None,
                      help="Train one epoch over this many fixed contexts instead of --steps random draws (the "
                           "streaming protocol: filters then save passes over a fixed budget).")
    tune.add_argument("--batch-size", type=positive_int, default=constants.DEFAULT_BATCH_SIZE,
                      help="Contexts per step.")
    tune.add_argument("--lr", type=float, default=constants.DEFAULT_LEARNING_RATE, help="AdamW learning rate.")
    tune.add_argument("--eval-every", type=positive_int, default=constants.DEFAULT_EVAL_EVERY,
                      help="Measure test perplexity every N steps.")
    add_threshold_argument(tune)
    tune.add_argument("--plot", help="Write a PNG of test perplexity against step here.")
    tune.add_argument("--json", action="store_true", help="Print the results as JSON instead of a table.")
    add_build_arguments(tune)  # used by --learner auto when the store has no learner yet
    add_kind_arguments(tune, "finetune")
    tune.set_defaults(handler=run_finetune)

    from learnerhub.cli.eval_command import add_eval_command
    from learnerhub.cli.registry_commands import add_commands, add_store_arguments

    add_store_arguments(add_eval_command(commands, add_corpus_arguments, add_build_arguments))
    from learnerhub.cli.lifecycle_commands import add_commands as add_lifecycle_commands
    from learnerhub.cli.pipeline_commands import add_commands as add_pipeline_commands
    from learnerhub.cli.server_commands import add_commands as add_server_commands

    add_store_arguments(tune)
    add_commands(commands)
    add_lifecycle_commands(commands)
    add_server_commands(commands)
    add_pipeline_commands(commands)
    return parser


def _load(args):
    from learnerhub.cli.inputs import load_inputs

    corpus, args.target_corpus, model, tokenizer, ref = load_inputs(args)
    return corpus, model, tokenizer, ref


def _build_config(args):
    from learnerhub.cli.inputs import build_config_from_args

    return build_config_from_args(args)


def _save_with_card(learner, out: str) -> Path:
    """Save the learner (its folder gets the real model card, marked unpublished); what the card warns of (no
    separate pool, an unmeasured effect, a ranking no better than chance) is said on stderr too, where the
    builder sees it before publishing."""
    from cards.model_card.render import card_warnings

    folder = learner.save(out)
    for warning in card_warnings(learner.metadata):
        print(f"learnerhub: warning: {warning}", file=sys.stderr)
    return folder


def run_build(args) -> int:
    """Build a learner of `--kind` with the kind's own builder, save it with its card and say what it is."""
    from learners.build_request import BuildRequest
    from cards.format.kinds import learner_kind

    kind = learner_kind(args.kind)
    if kind.has("check_options"):
        kind.behaviour("check_options")(args)
    build = kind.behaviour("builder")
    corpus, model, tokenizer, ref = _load(args)   # names each stage on stderr, the first before torch loads
    request = BuildRequest(corpus, model, tokenizer, ref, _build_config(args), target=args.target_corpus,
                           options=args, progress=True, distributed=True)
    learner = build(request)
    if learner is not None:   # None: a process other than the main one of an `accelerate launch` build
        _save_with_card(learner, args.out)
        if kind.has("build_summary"):
            print(kind.behaviour("build_summary")(learner, request))
    return 0


def run_finetune(args) -> int:
    import dataclasses

    import torch

    from learners.corpora.examples import Examples
    from learners.finetuning.evaluation.comparison import TrainOn, compare_filters, comparison_table
    from learners.finetuning.training.loop import FinetuneConfig
    from learners.igf.build import split_corpus, split_target_and_pool
    from learners.igf.thresholds import parse_threshold
    from cards.format.kinds import learner_kind, learner_kinds
    from learnerhub.cli.inputs import load_named_learner

    try:
        parse_threshold(args.threshold)
    except ValueError as error:
        raise UsageError(str(error)) from None
    corpus, model, tokenizer, ref = _load(args)
    filters = {"standard": None}
    learner = None
    if args.learner == "auto":
        from learnerhub.pull_or_build import pull_or_build

        learner = pull_or_build(corpus, model, tokenizer, ref, _build_config(args), target=args.target_corpus,
                                store=args.store, endpoint=args.endpoint, progress=True)
    elif args.learner != "none":
        learner = load_named_learner(args.learner, model, tokenizer)
    for kind in (learner_kind(name) for name in learner_kinds() if learner_kind(name).has("extra_arms")):
        filters.update(kind.behaviour("extra_arms")(args, model))   # arms a kind's own flags ask for
    if learner is not None:
        arm, context_filter = learner_kind(learner.kind).behaviour("make_filter")(learner, args)
        filters[arm] = context_filter
    _, _, split = split_target_and_pool(corpus, args.target_corpus, tokenizer, _build_config(args))
    if args.target_corpus is not None:  # the ideal a filter tries to reach: standard on the clean target
        _, target_split = split_corpus(args.target_corpus, tokenizer, _build_config(args))
        filters = {"standard": None, "standard-target": TrainOn(target_split.train), **filters}
    steps = args.steps
    if args.contexts:  # one epoch over a fixed budget; every arm sees the same contexts
        fixed = split.train.sample(args.contexts, torch.Generator().manual_seed(args.seed + 4))
        split, steps = dataclasses.replace(split, train=Examples(fixed)), None
        if "standard-target" in filters:
            target = filters["standard-target"].train.sample(args.contexts,
                                                             torch.Generator().manual_seed(args.seed + 4))
            filters["standard-target"] = TrainOn(Examples(target))
    config = FinetuneConfig(steps=steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every,
                            seed=args.seed)
    results = compare_filters(model, split, filters, config, progress=True)
    if args.plot:
        from learners.plots import plot_perplexity_curves

        plot_perplexity_curves({name: [r.evaluations] for name, r in results.items()}, args.plot,
                               title=f"{corpus.name} on {ref.model_id}")
    if args.json:
        print(json.dumps({"corpus": corpus.name, "base_model": ref.model_id,
                          "results": {name: r.to_dict() for name, r in results.items()}}, indent=2))
    else:
        print(comparison_table(results))
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """learnerhub's own warnings (a yanked pin, a broken version passed over) as one line, without a source line."""
    if issubclass(category, RegistryWarning):
        print(f"learnerhub: warning: {message}", file=sys.stderr)
    else:
        _default_show_warning(message, category, filename, lineno, file, line)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    stdout, sys.stdout = sys.stdout, GuardedOutput(sys.stdout)
    try:
        status = args.handler(args)
        sys.stdout.flush()   # here, not at exit: a closed or full stdout fails inside this try
        return status
    except BrokenPipeError:
        # The reader went away (`learnerhub list --json | head -1`): what it wanted was printed. Point stdout
        # at devnull so the interpreter's final flush does not fail again (the Python docs' recipe).
        discard_stdout()
        return 0
    except Exception as error:   # noqa: BLE001 (known errors become one line; anything else is a bug, re-raised)
        message = user_message(error)
        if message is None:
            raise
        print(f"learnerhub: error: {message}", file=sys.stderr)
        return 2
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
