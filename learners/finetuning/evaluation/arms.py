"""Measure what a learner does to fine-tuning, and keep the answer with the learner.

`evaluate_learner` fine-tunes the base model from the same weights, paired by seed, with the learner
(igf), without it (standard, on the pool) and with random filtering at the learner's measured
acceptance rate and candidate budget (random); with a target apart from the pool, also standard on
the clean target (the ideal a filter tries to reach) and, when asked, the peers a user could pick
instead of a learner (DSIR, a target-vs-pool classifier) keeping the same share of the same pool.
Runs use the learner's own split, so its objective and test documents were never probed or trained on.
The result is an evaluation record (regime, protocol, per-seed perplexities, paired effects with
bootstrap CIs) that is appended to learner.json's `evaluations`, drawn as a plot, and shown on the
card and the hub's pages.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import torch
from torch import nn

from cards.format.kinds import learner_kind
from cards.format.metadata import learnerhub_version

from ...constants import DEFAULT_THRESHOLD
from ...corpora.corpus import Corpus
from ...igf.build import BuildConfig, split_corpus, split_target_and_pool
from ...progress import step_bar
from .comparison import TrainOn, compare_filters
from .effect import paired_effect
from ..training.loop import FinetuneConfig, FinetuneResult
from .peer_selectors import PEERS, PeerFilter, check_peers, fit_peer
from .reference_filters import RandomFilter

#: Arm names as they appear in evaluation records, cards and plots; the learner's arm is named by its kind's
#: `make_filter` (`igf` for both IGF kinds).
STANDARD, TARGET, RANDOM = "standard", "standard-target", "random"


@dataclass
class EvaluationConfig:
    """The fine-tuning protocol of an evaluation (recorded with it)."""

    seeds: int = 3
    steps: int = 30
    batch_size: int = 8
    lr: float = 5e-5
    eval_every: int = 10
    threshold: str = DEFAULT_THRESHOLD
    #: With a target apart from the pool, also fine-tune on the clean target (the ideal a filter tries to reach).
    target_arm: bool = True
    #: Peer selectors (`peer_selectors.PEERS`) run at the learner's rate in each seed; they need a target.
    peers: tuple[str, ...] = ()
    #: Contexts of the target and of the pool the peers are fitted on, and of the pool their cut is placed on.
    peer_contexts: int = 1024


def corpus_facts(corpus: Corpus) -> dict:
    return {"name": corpus.name, "fingerprint": corpus.fingerprint, "documents": len(corpus)}


def learner_split_config(learner) -> BuildConfig:
    """The split the learner was built on (objective/test sizes, context length, seed)."""
    built = learner.metadata.hyperparameters
    return BuildConfig(objective_size=built.get("objective_size", BuildConfig.objective_size),
                       test_size=built.get("test_size", BuildConfig.test_size),
                       context_length=built.get("context_length", BuildConfig.context_length),
                       seed=built.get("seed", 0))


def evaluate_learner(learner, model: nn.Module, tokenizer, pool: Corpus, *, target: Corpus | None = None,
                     config: EvaluationConfig | None = None, progress: bool = False,
                     base_model: str | None = None) -> dict:
    """Run the paired arms for `config.seeds` seeds and return the evaluation record.

    `base_model` names `model` in the record (default: its `name_or_path`): a text-level learner's card lists
    the base models it was evaluated on.

    Example:
        >>> record = evaluate_learner(learner, model, tokenizer, load_corpus("mixed.jsonl.gz"),
        ...                           target=load_corpus("kjv.jsonl.gz"), config=EvaluationConfig(seeds=5))
        >>> record["effect"]["final"]["median_ratio"], record["effect"]["final"]["ci_high"]
    """
    config = config or EvaluationConfig()
    split_config = learner_split_config(learner)
    _, _, split = split_target_and_pool(pool, target, tokenizer, split_config, progress=progress)
    target_train = (split_corpus(target, tokenizer, split_config)[1].train
                    if target is not None and config.target_arm else None)
    make_filter = learner_filter_factory(learner, config)
    learner_arm = make_filter()[0]
    peers, calibration = fit_peers(config, split, tokenizer, has_target=target is not None)
    runs: dict[str, list[FinetuneResult]] = {STANDARD: [], learner_arm: [], RANDOM: [], **{p: [] for p in peers}}
    if target_train is not None:
        runs[TARGET] = []
    # One bar over every optimizer step of every run (seeds x arms x steps): its rate and time left cover
    # the whole evaluation, and it moves from the first step on.
    with step_bar(config.seeds * len(runs) * config.steps, "evaluating learner", enabled=progress) as bar:
        for seed in range(config.seeds):
            bar.set_description_str(f"evaluating learner, seed {seed + 1}/{config.seeds}", refresh=False)
            finetune_config = FinetuneConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                                             eval_every=config.eval_every, seed=seed)
            arms = {STANDARD: None, learner_arm: make_filter()[1]}
            if target_train is not None:
                arms[TARGET] = TrainOn(target_train)
            for name, result in compare_filters(model, split, arms, finetune_config, progress=bar).items():
                runs[name].append(result)
            rate = runs[learner_arm][-1].acceptance_rate
            at_rate = {RANDOM: RandomFilter(rate, seed=seed),
                       **{name: PeerFilter.from_scores(name, scorer, tokenizer, calibration[name], rate, seed=seed)
                          for name, scorer in peers.items()}}
            for name, result in compare_filters(model, split, at_rate, finetune_config, progress=bar).items():
                runs[name].append(result)
    record = evaluation_record(runs, learner=learner, pool=pool, target=target, config=config, split=split,
                               learner_arm=learner_arm)
    return {**record, "base_model": {"model_id": base_model or getattr(model.config, "_name_or_path", None)}}


def fit_peers(config: EvaluationConfig, split, tokenizer, *, has_target: bool) -> tuple[dict, dict]:
    """The peers' text scorers, fitted once on decoded target and pool contexts, and each peer's scores of the
    pool sample its cut is placed on in each seed (at that seed's learner rate), scored once."""
    if not config.peers:
        return {}, {}
    check_peers(config.peers, has_target=has_target and split.target_train is not None)

    def texts(stream, seed: int) -> list[str]:
        return tokenizer.batch_decode(stream.sample(config.peer_contexts, torch.Generator().manual_seed(seed)),
                                      skip_special_tokens=True)

    target_texts, pool_texts, calibration = (texts(split.target_train, 7919), texts(split.train, 7920),
                                             texts(split.train, 7921))
    peers = {name: fit_peer(name, target_texts, pool_texts) for name in config.peers}
    return peers, {name: scorer(calibration) for name, scorer in peers.items()}


def learner_filter_factory(learner, config: EvaluationConfig):
    """A function making (arm name, a fresh filter) of the learner's own kind (`LearnerKind.make_filter`) at
    `config.threshold`."""
    make_filter = learner_kind(learner.kind).behaviour("make_filter")
    options = SimpleNamespace(threshold=config.threshold)
    return lambda: make_filter(learner, options)


def _best(result: FinetuneResult) -> float:
    return min(e["test_perplexity"] for e in result.evaluations)


def evaluation_record(runs: dict[str, list[FinetuneResult]], *, learner, pool: Corpus, target: Corpus | None,
                      config: EvaluationConfig, split, learner_arm: str) -> dict:
    final = {name: [r.final_perplexity for r in results] for name, results in runs.items()}
    best = {name: [_best(r) for r in results] for name, results in runs.items()}
    effect = {"final": paired_effect(final[learner_arm], final[STANDARD]),
              "best": paired_effect(best[learner_arm], best[STANDARD]),
              "vs_random_final": paired_effect(final[learner_arm], final[RANDOM])}
    if TARGET in runs:
        effect["vs_target_final"] = paired_effect(final[learner_arm], final[TARGET])
    for peer in PEERS:
        if peer in runs:
            effect[f"vs_{peer}_final"] = paired_effect(final[learner_arm], final[peer])
    igf = runs[learner_arm]
    made = learner_filter_factory(learner, config)()[1]
    threshold = made.describe().get("threshold") if hasattr(made, "describe") else None
    return {
        "id": uuid.uuid4().hex[:12],
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "learnerhub_version": learnerhub_version(),
        "regime": {"target": corpus_facts(target or pool), "pool": corpus_facts(pool),
                   "target_is_pool": target is None},
        "protocol": {"steps": config.steps, "batch_size": config.batch_size, "lr": config.lr,
                     "eval_every": config.eval_every, "context_length": split.test.shape[1],
                     "test_contexts": len(split.test), "threshold": threshold,
                     **({"peers": {"names": list(config.peers), "fitted_on_contexts": config.peer_contexts,
                                   "at_rate_of": learner_arm}} if config.peers else {})},
        "seeds": list(range(config.seeds)),
        "metric": {"name": "test_perplexity_ratio", "lower_is_better": True,
                   "description": "igf / standard test perplexity at the last step, median over paired seeds"},
        "arms": {name: {"final_perplexity": final[name], "best_perplexity": best[name],
                        "curves": [[[e["trained"], e["test_perplexity"]] for e in r.evaluations] for r in results],
                        "acceptance_rate": [r.acceptance_rate for r in results],
                        "candidates_seen": [r.contexts_seen for r in results],
                        "backward_contexts": [r.lm_backward_contexts for r in results]}
                 for name, results in runs.items()},
        "effect": effect,
        "acceptance_rate": sorted(r.acceptance_rate for r in igf)[len(igf) // 2],
        "compute": {"backward_to_reach_standard_final": _backward_to_reach(igf, runs[STANDARD]),
                    "candidates_per_trained_context": sum(r.contexts_seen for r in igf) / max(
                        1, sum(r.lm_backward_contexts for r in igf))},
    }


def _backward_to_reach(arm: list[FinetuneResult], standard: list[FinetuneResult]) -> dict:
    """Per seed, the share of standard's backward passes the arm needed to reach standard's final perplexity."""
    shares = []
    for run, baseline in zip(arm, standard):
        reached = next((e["trained"] for e in run.evaluations if e["test_perplexity"] <= baseline.final_perplexity),
                       None)
        shares.append(None if reached is None else reached / max(1, baseline.lm_backward_contexts))
    done = sorted(s for s in shares if s is not None)
    return {"reached": f"{len(done)}/{len(shares)}", "median_share": done[len(done) // 2] if done else None}


def add_evaluation(learner, record: dict) -> None:
    """Keep `record` with the learner (learner.json's `evaluations`, newest last)."""
    learner.metadata.evaluations = [*learner.metadata.evaluations, record]
