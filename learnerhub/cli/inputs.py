"""What every fine-tuning command loads from its arguments (the pool, the target, the base model, the learner),
and the argparse types that check them first."""

from __future__ import annotations

import argparse
from pathlib import Path

from learners.argument_types import choice_of, positive_int
from cards.suggestions import did_you_mean

__all__ = ["choice_of", "positive_int"]   # defined beside the kinds' own flags, used here too


def pair_count(text: str) -> int:
    """argparse type of --pairs: a head needs MIN_PAIRS pairs, refused here rather than after minutes of probing."""
    from learners.constants import MIN_PAIRS

    value = int(text)
    if value < MIN_PAIRS:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_PAIRS} (the head is trained, validated and tested "
                                         f"on them), not {value}")
    return value


def port_number(text: str) -> int:
    """argparse type of --port: 0 (any free port) to 65535; anything else would listen somewhere unexpected."""
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port from 1 to 65535 (or 0 for any free port), not {value}")
    return value


def load_named_learner(source: str, model, tokenizer, *, keywords: tuple[str, ...] = ("auto", "none")):
    """`load_learner` for a learner argument that may also be one of `keywords`: a mistyped keyword (`atuo`)
    is named as one rather than reported as a missing folder."""
    from learners.loading import load_learner
    from cards.format.naming import is_reference

    if not Path(source).exists() and not is_reference(source):
        hint = did_you_mean(source, keywords)
        if hint:
            from cards.format.errors import UsageError

            raise UsageError(f"There is no learner folder {source!r}.{hint}")
    return load_learner(source, model, tokenizer)


def load_inputs(args: argparse.Namespace, *, progress: bool = True):
    """(pool corpus, target corpus or None, model, tokenizer, base model ref) from the shared flags; with
    `progress`, each stage is named on stderr as it starts (the first before torch is even imported)."""
    from learners.progress import stage

    stage(f"reading corpus {', '.join(args.corpus)}{f' and target {args.target}' if args.target else ''}",
          enabled=progress)
    from learners.corpora.corpus import join_corpora, load_corpus

    pool = join_corpora([load_corpus(path, text_field=args.text_field) for path in args.corpus], name=args.corpus_name)
    target = load_corpus(args.target, name=args.target_name, text_field=args.text_field) if args.target else None
    stage(f"loading base model {args.base_model}", enabled=progress)
    from learners.base_models import load_base_model

    model, tokenizer, ref = load_base_model(args.base_model)
    return pool, target, model, tokenizer, ref


def build_config_from_args(args: argparse.Namespace):
    """The BuildConfig the build flags describe (also what `--learner auto` builds with)."""
    from learners.igf.build import BuildConfig
    from learners.igf.head_training import HeadTrainingConfig

    head = HeadTrainingConfig(seed=args.seed)
    if args.head:
        head.head = args.head
    if args.learner_lr:
        head.lr = args.learner_lr
    if args.learner_epochs:
        head.max_epochs = args.learner_epochs
    return BuildConfig(probe=args.probe, pairs=args.pairs, objective_size=args.objective_size,
                       test_size=args.test_size, context_length=args.context_length, seed=args.seed,
                       probe_batch_size=args.probe_batch_size, probe_layers=args.probe_layers, head=head)
