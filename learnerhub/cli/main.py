"""The `learnerhub` command line: build learners, fine-tune with them, and (from `registry`) share them."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from learnerhub.cli.errors import user_message
from learnerhub.cli.arguments import add_build_arguments, add_corpus_arguments, add_kind_argument
from learnerhub.cli.arguments import add_streaming_arguments, add_threshold_argument
from learnerhub.cli.inputs import positive_int
from learnerhub.cli.output import GuardedOutput, discard_stdout
from learners import constants
from learners.errors import UsageError
from learners.kinds import learner_kind
from learners.metadata import learnerhub_version
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
    add_streaming_arguments(build)
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
    tune.add_argument("--streaming", action="store_true",
                      help="Add an arm with a fresh streaming filter (warm-up, loss threshold, meta predictor).")
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
    add_streaming_arguments(tune)
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


def _streaming_config(args):
    from learners.streaming.filter import StreamingConfig

    config = StreamingConfig()
    if args.warmup_steps is not None:
        config.warmup_steps = args.warmup_steps
    if args.cutoff_ratio is not None:
        config.cutoff_ratio = args.cutoff_ratio
    if args.warmup_plateau is not None:
        config.plateau_tolerance = args.warmup_plateau
    if args.max_warmup_steps is not None:
        config.max_warmup_steps = args.max_warmup_steps
    if args.min_predictor_balanced_accuracy is not None:
        config.min_predictor_balanced_accuracy = args.min_predictor_balanced_accuracy
    return config


def _fresh_streaming_filter(args, model):
    from learners.streaming.filter import StreamingFilter
    from learners.streaming.meta_predictors import DEFAULT_PREDICTOR, make_predictor

    predictor = make_predictor(args.predictor or DEFAULT_PREDICTOR,
                               vocab_size=int(model.get_input_embeddings().weight.shape[0]))
    return StreamingFilter(predictor, _streaming_config(args))


def run_build_streaming(args) -> int:
    import torch

    from learners.corpora.examples import Examples
    from learners.igf.build import split_corpus
    from learners.streaming.learner import StreamingBuildConfig, build_streaming_learner

    corpus, model, tokenizer, ref = _load(args)
    tokenized, split = split_corpus(corpus, tokenizer, _build_config(args))
    config = StreamingBuildConfig(examples=args.examples, seed=args.seed, context_length=args.context_length,
                                  filter=_streaming_config(args))
    if args.predictor:
        config.predictor = args.predictor
    if args.start_stage:
        config.start_stage = args.start_stage
    train = Examples(split.train.sample(args.examples, torch.Generator().manual_seed(args.seed + 3)))
    record = {"name": corpus.name, "fingerprint": corpus.fingerprint, "documents": len(corpus),
              "usable_documents": len(tokenized.documents)}
    learner = build_streaming_learner(model, tokenizer, train, base_model=ref, corpus=record, config=config,
                                      progress=True)
    folder = _save_with_card(learner, args.out)
    metrics, run = learner.metadata.metrics, learner.metadata.run
    print(f"Wrote {learner.kind} learner for corpus {corpus.name!r} on {ref.model_id} to {folder}\n"
          f"  threshold {metrics['threshold']:.3f}, predictor {config.predictor} (online accuracy "
          f"{metrics['predictor_accuracy']:.3f}), trained on {run.trained_examples} of {run.examples} "
          f"contexts, ended in stage {run.final_stage}")
    return 0


def _save_with_card(learner, out: str) -> Path:
    """Save the learner and give its folder the real model card (marked unpublished), not the generic one;
    what the card warns of (no separate pool, an unmeasured effect, a ranking no better than chance) is said
    on stderr too, where the builder sees it before publishing."""
    from registry.cards import card_warnings
    from registry.naming import learner_repository_name
    from registry.staging import write_folder_card

    folder = learner.save(out)
    write_folder_card(folder, learner.metadata, repo_id=learner_repository_name(learner.metadata), version=None)
    for warning in card_warnings(learner.metadata):
        print(f"learnerhub: warning: {warning}", file=sys.stderr)
    return folder


def run_build(args) -> int:
    if args.kind == "streaming":
        return run_build_streaming(args)
    text = learner_kind(args.kind).any_base_model   # reads text: --base-model only labels the contexts
    if text and args.head:
        raise UsageError(f"--head chooses the head of an igf learner; a {args.kind} learner reads text.")
    corpus, model, tokenizer, ref = _load(args)   # names each stage on stderr, the first before torch loads
    from learners.distributed import make_accelerator
    from learners.igf.build import build_information_gain_learner
    from learners.text_igf.build import build_text_learner

    build, on = ((build_text_learner, "for any base model, labelled by") if text
                 else (build_information_gain_learner, "on"))
    accelerator = make_accelerator()
    learner = build(model, tokenizer, corpus, ref, _build_config(args), target=args.target_corpus,
                    accelerator=accelerator, progress=True)
    if accelerator.is_main_process:
        folder = _save_with_card(learner, args.out)
        metrics = learner.metadata.metrics
        pool = f" from pool {corpus.name!r}" if args.target_corpus else ""
        print(f"Wrote {learner.kind} learner for corpus {learner.metadata.corpus.name!r}{pool} {on} {ref.model_id} "
              f"to {folder}\n"
              f"  pairs {metrics['pairs']}, probe {learner.metadata.probe.name} ({metrics['probe_seconds']:.1f} s), "
              f"held-out Spearman {metrics['test_spearman']:.3f}, MSE {metrics['test_mse']:.3f}")
        if "labeller_bag_of_tokens_test_spearman" in metrics:
            print(f"  (the bag-of-tokens head on the same pairs: held-out Spearman "
                  f"{metrics['labeller_bag_of_tokens_test_spearman']:.3f})")
    return 0


def run_finetune(args) -> int:
    import dataclasses

    import torch

    from learners.corpora.examples import Examples
    from learners.finetuning.comparison import TrainOn, compare_filters, comparison_table
    from learners.finetuning.loop import FinetuneConfig
    from learners.igf.build import split_corpus, split_target_and_pool
    from learners.igf.filter import InformationGainFilter
    from learners.igf.thresholds import parse_threshold
    from learnerhub.cli.inputs import load_named_learner
    from learners.streaming.learner import STREAMING_KIND

    try:
        threshold = parse_threshold(args.threshold)
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
    if args.streaming:
        filters["streaming"] = _fresh_streaming_filter(args, model)
    if learner is not None and learner.kind == STREAMING_KIND:
        start_stage = args.start_stage or learner.start_stage
        filters[f"streaming-pulled-s{start_stage}"] = learner.make_filter(start_stage=start_stage)
    elif learner is not None:
        filters["igf"] = InformationGainFilter(learner, threshold)
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
