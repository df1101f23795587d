"""`learnerhub eval`: measure a learner's effect on fine-tuning and keep the record with the learner."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from learnerhub.cli.arguments import add_kind_arguments, add_threshold_argument
from learnerhub.cli.inputs import positive_int
from learners import constants
from cards.format.errors import UsageError


def add_eval_command(commands, add_corpus_arguments, add_build_arguments) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "eval", help="Measure a learner's effect on fine-tuning and record it with the learner.",
        description="Fine-tune the base model with the learner (igf), without it (standard, on the pool), with "
                    "random filtering at the learner's acceptance rate (random) and, with --target, on the clean "
                    "target; paired by seed, on the learner's own split (its objective and test documents are never "
                    "trained on). Appends an evaluation record (per-seed perplexities, median ratio, bootstrap 95% "
                    "CI, paired p-value) to learner.json, draws assets/eval_plot.png and renews the card; "
                    "`learnerhub publish` takes them along.")
    parser.add_argument("learner", help="A learner folder (the record is added to it), or `auto`: pull the target's "
                                        "IGF learner from the store, or build one, evaluate it and publish it as "
                                        "1.0.0 with the record.")
    add_corpus_arguments(parser)
    parser.add_argument("--seeds", type=positive_int, default=3,
                        help="Paired seeds (at least 3 for a confidence interval).")
    parser.add_argument("--steps", type=positive_int, default=30, help="Optimizer steps per run.")
    parser.add_argument("--batch-size", type=positive_int, default=8, help="Contexts per step.")
    parser.add_argument("--lr", type=float, default=constants.DEFAULT_LEARNING_RATE, help="AdamW learning rate.")
    parser.add_argument("--eval-every", type=positive_int, default=10, help="Measure test perplexity every N steps.")
    add_threshold_argument(parser)
    parser.add_argument("--no-target-arm", action="store_true",
                        help="With --target, skip the standard-on-clean-target arm (a quicker run).")
    parser.add_argument("--peers", default="", metavar="dsir,classifier",
                        help="Also run the selectors a user could pick instead of a learner, keeping the learner's "
                             "share of the same pool in each seed: dsir (DSIR's hashed n-gram importance weights; "
                             "needs the data-selection package, `pip install 'learnerhub[peers]'`) and classifier "
                             "(a hashed n-gram target-vs-pool logistic regression). Needs --target.")
    parser.add_argument("--json", action="store_true", help="Print the evaluation record as JSON.")
    add_build_arguments(parser)  # used by `auto` when the store has no learner yet
    add_kind_arguments(parser, "eval")
    parser.set_defaults(handler=run_eval)
    return parser


def run_eval(args: argparse.Namespace) -> int:
    from learnerhub.cli.inputs import load_inputs, load_named_learner
    from learners.finetuning.evaluation.arms import EvaluationConfig, add_evaluation, evaluate_learner
    from learners.igf.thresholds import parse_threshold
    from cards.format.kinds import learner_kind, learner_kinds
    from cards.format.constants import EVAL_PLOT

    if args.seeds < 1 or args.steps < 1 or args.batch_size < 1:
        raise UsageError("--seeds, --steps and --batch-size must be at least 1.")
    try:
        parse_threshold(args.threshold)
    except ValueError as error:
        raise UsageError(str(error)) from None
    peers = parse_peers(args.peers, has_target=bool(args.target))
    pool, target, model, tokenizer, ref = load_inputs(args)
    config = EvaluationConfig(seeds=args.seeds, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                              eval_every=args.eval_every, threshold=args.threshold,
                              target_arm=not args.no_target_arm, peers=peers)
    if args.learner == "auto":
        return _evaluate_auto(args, pool, target, model, tokenizer, ref, config)
    folder = Path(args.learner)
    learner = load_named_learner(args.learner, model, tokenizer, keywords=("auto",))
    if not learner_kind(learner.kind).evaluable:
        measured = [name for name in learner_kinds() if learner_kind(name).evaluable]
        raise UsageError(f"{folder} holds a {learner.kind!r} learner; `learnerhub eval` measures "
                         f"{', '.join(measured)} learners.")
    record = evaluate_learner(learner, model, tokenizer, pool, target=target, config=config, progress=True,
                              base_model=ref.model_id)
    add_evaluation(learner, record)
    learner.metadata.save(folder)
    draw_and_renew_card(folder, learner.metadata, record)
    return report(record, args, where=f"{folder} (record {record['id']} added to learner.json)",
                  plot=folder / EVAL_PLOT)


def parse_peers(value: str, *, has_target: bool) -> tuple[str, ...]:
    """`--peers`' names, checked before any model is loaded: known, with a target, their packages installed."""
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    if not names:
        return ()
    from learners.finetuning.evaluation.peer_selectors import PeerSelectorMissing, check_peers

    try:
        check_peers(names, has_target=has_target)
    except (ValueError, PeerSelectorMissing) as error:
        raise UsageError(str(error)) from None
    return names


def _evaluate_auto(args, pool, target, model, tokenizer, ref, config) -> int:
    """Pull the target's learner or build one; a fresh one is evaluated before it is published, with the record."""
    from learnerhub.cli.inputs import build_config_from_args
    from learnerhub.pull_or_build import pull_or_build
    from learners.finetuning.evaluation.arms import add_evaluation, evaluate_learner

    fresh = {}

    def evaluate_before_publishing(learner, folder: Path) -> None:
        fresh["record"] = evaluate_learner(learner, model, tokenizer, pool, target=target, config=config,
                                           progress=True, base_model=ref.model_id)
        add_evaluation(learner, fresh["record"])
        learner.metadata.save(folder)
        draw_and_renew_card(folder, learner.metadata, fresh["record"])

    learner = pull_or_build(pool, model, tokenizer, ref, build_config_from_args(args), target=target,
                            store=args.store, endpoint=args.endpoint, progress=True,
                            before_publish=evaluate_before_publishing)
    if "record" in fresh:
        return report(fresh["record"], args, where="the new learner (published with this record)")
    record = evaluate_learner(learner, model, tokenizer, pool, target=target, config=config, progress=True,
                              base_model=ref.model_id)
    return report(record, args, where="the published learner (a published version does not change, so this run is "
                                      "not recorded; evaluate a folder and publish a new version to keep it)")


def draw_and_renew_card(folder: Path, metadata, record: dict) -> None:
    """The evaluation plot (the card's headline picture) and the card that shows the new record."""
    from cards.format.constants import EVAL_PLOT
    from learners.plots import plot_evaluation
    from cards.format.naming import learner_repository_name
    from cards.model_card.folder_card import write_folder_card

    regime = record["regime"]
    plot_evaluation(record, folder / EVAL_PLOT, title=f"target {regime['target']['name']}, pool "
                                                       f"{regime['pool']['name']}: test perplexity by arm")
    write_folder_card(folder, metadata, repo_id=learner_repository_name(metadata), version=None)


def report(record: dict, args, *, where: str, plot: Path | None = None) -> int:
    """The record as JSON, or the lines a user reads: each effect with its CI, then the medians."""
    from cards.format.effect_wording import describe_effect

    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    regime, effect = record["regime"], record["effect"]
    lines = [f"Evaluated {where}: target {regime['target']['name']}, pool {regime['pool']['name']}, "
             f"{len(record['seeds'])} paired seeds x {record['protocol']['steps']} steps of "
             f"{record['protocol']['batch_size']} contexts",
             f"  igf / standard, last step:      {describe_effect(effect['final'])}",
             f"  igf / standard, best so far:    {describe_effect(effect['best'])}",
             f"  igf / random at its rate {record['acceptance_rate']:.2f}: "
             f"{describe_effect(effect['vs_random_final'])}"]
    if "vs_target_final" in effect:
        lines.append(f"  igf / standard on clean target: {describe_effect(effect['vs_target_final'])}")
    for peer, label in (("dsir", "DSIR"), ("classifier", "classifier")):
        if f"vs_{peer}_final" in effect:
            lines.append(f"  igf / {label} at its rate:{' ' * (13 - len(label))}"
                         f"{describe_effect(effect[f'vs_{peer}_final'])}")
    drawn = (record.get("compute") or {}).get("candidates_per_trained_context")
    threshold = record["protocol"].get("threshold") or {}
    if drawn:
        kind = threshold.get("kind", "?") + (f" = {threshold['uses']}" if threshold.get("uses") else "")
        lines.append(f"  threshold {kind} (cut {threshold.get('value', float('nan')):.2f}): kept "
                     f"{record['acceptance_rate']:.2f} of the candidates, {drawn:.2f} drawn per trained context")
    medians = {name: sorted(arm["final_perplexity"])[len(arm["final_perplexity"]) // 2]
               for name, arm in record["arms"].items()}
    lines.append("  median test perplexity at the last step: "
                 + ", ".join(f"{name} {value:.2f}" for name, value in medians.items()))
    if plot:
        lines.append(f"  plot: {plot}")
    print("\n".join(lines))
    return 0
