"""The three-stage streaming filter of "Efficient NLP Model Finetuning via Multistage Data Filtering".

Examples arrive as a stream (one epoch over a fixed budget) and pass three stages:

- stage 0, warm-up: train on everything for `warmup_steps` optimizer steps and record each trained
  example's loss. The loss threshold is the mean of the last `threshold_window` of them (the
  authors' code: 128), frozen when stage 0 ends. The warm-up examples, labelled with that threshold,
  are the meta predictor's first lessons. With `plateau_tolerance` set, stage 0 goes on past
  `warmup_steps` until the loss stops falling (the last window's mean is within that fraction of the
  window before it) or `max_warmup_steps` is reached: a threshold taken while the loss still falls
  fast is a random model's loss, and stage 1 would then train on misclassified examples only.
- stage 1: forward every example; those with loss at or under the threshold skip the backward pass,
  the rest are trained on in full batches. The meta predictor learns "loss above threshold" from
  every forwarded example.
- stage 2: examples the meta predictor calls unimportant skip the forward pass too; the rest are
  forwarded, trained on if their loss is still above the threshold, and taught to the predictor.
  A random `explore_fraction` of the examples it rejects is forwarded anyway (our addition): a
  predictor that learns only from the examples it lets through can talk itself into rejecting
  everything, after which it never sees another label; exploring keeps both classes in its diet.

The cutoff (stage 1 -> 2): the model's recent loss on the stream, the mean over the last
`cutoff_window` forwarded examples (all of them, not only the trained ones, which are above the
threshold by construction), falls to `cutoff_ratio` x threshold, the predictor has learned from
at least `min_predictor_examples` examples, and its recent balanced accuracy (the mean of its recall on
important and on unimportant examples, over the last `cutoff_window` it scored before learning from
them) is at least `min_predictor_balanced_accuracy` (our addition): a predictor no better than a coin
would skip important examples as often as unimportant ones, and stage 1 alone is then the better deal.
A filter made from a pulled learner starts in stage 1 or 2 with the saved threshold and the warm predictor.

Example:
    >>> streaming = StreamingFilter(make_predictor("hashed_logistic", vocab_size=len(tokenizer)))
    >>> result = finetune(model, train_examples, test, streaming, FinetuneConfig(steps=None))
    >>> result.filter_stats["transitions"]
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

import torch

from ..context_filter import ContextFilter
from .meta_predictors import MetaPredictor

WARMUP, LOSS_THRESHOLD, PREDICTOR = 0, 1, 2
STAGE_NAMES = {WARMUP: "warm-up", LOSS_THRESHOLD: "loss threshold", PREDICTOR: "meta predictor"}


@dataclass
class StreamingConfig:
    """The filter's knobs; recorded in the run's filter description and in a streaming learner.

    Defaults, and the measurements behind them (benchmarks/README.md): the fixed 8-step warm-up is the
    authors' rule and suits short language-model budgets, where the loss never plateaus; on a longer
    stream (the classification benchmark) `plateau_tolerance=0.05` sets the threshold at a converged loss
    instead. The 0.75 gate on stage 2 keeps out predictors that, let in, lost 4-8 points of accuracy.
    """

    warmup_steps: int = 8
    threshold_window: int = 128
    plateau_tolerance: float | None = None
    max_warmup_steps: int | None = None
    cutoff_ratio: float = 1.0
    cutoff_window: int = 128
    min_predictor_examples: int = 256
    min_predictor_balanced_accuracy: float = 0.75
    decision_probability: float = 0.5
    explore_fraction: float = 0.1
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class StreamingFilter(ContextFilter):
    """Loss threshold, then meta predictor: skips backward passes, then forward passes too."""

    name = "streaming"

    def __init__(self, predictor: MetaPredictor, config: StreamingConfig | None = None, *,
                 start_stage: int = WARMUP, threshold: float | None = None, record_trace: bool = False) -> None:
        if start_stage not in STAGE_NAMES:
            raise ValueError(f"start_stage must be one of {sorted(STAGE_NAMES)} ({STAGE_NAMES}), not {start_stage}.")
        if start_stage > WARMUP and threshold is None:
            raise ValueError("Starting after the warm-up needs a loss threshold (a pulled streaming learner has one).")
        self.predictor = predictor
        self.config = config or StreamingConfig()
        self.stage = start_stage
        self.start_stage = start_stage
        self.threshold = threshold
        self.transitions: list[dict] = []
        self.trace: list[dict] | None = [] if record_trace else None   # per batch, for a build's plot
        self._warmup_losses: deque[float] = deque(maxlen=2 * self.config.threshold_window)
        self._warmup_examples: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._recent_losses: deque[float] = deque(maxlen=self.config.cutoff_window)
        self._recent_calls: deque[tuple[bool, bool]] = deque(maxlen=self.config.cutoff_window)  # (said, was)
        self._generator = torch.Generator().manual_seed(self.config.seed)
        self.counts = {"warmup_trained": 0, "forwarded": 0, "above_threshold": 0, "skipped_backward": 0,
                       "skipped_forward": 0, "explored": 0, "predictor_examples": 0, "predictor_correct": 0,
                       "predictor_correct_stage2": 0, "predictor_examples_stage2": 0}

    # -- the loop's hooks -------------------------------------------------------------------------

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        if self.stage < PREDICTOR:
            return torch.ones(len(input_ids), dtype=torch.bool)
        important = self.predictor.predict_proba(input_ids) >= self.config.decision_probability
        explored = ~important & (torch.rand(len(input_ids), generator=self._generator) < self.config.explore_fraction)
        keep = important | explored
        self.counts["explored"] += int(explored.sum())
        self.counts["skipped_forward"] += int((~keep).sum())
        if not keep.all():
            self._record(step, None, examples=int((~keep).sum()), trained=0)
        return keep

    def wants_losses(self, step: int) -> bool:
        return self.stage > WARMUP

    def select_after_forward(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> torch.Tensor:
        above = losses.float() > self.threshold
        self._record(step, losses, examples=len(losses), trained=int(above.sum()))
        self._learn(input_ids, above)
        self.counts["forwarded"] += len(losses)
        self.counts["above_threshold"] += int(above.sum())
        self.counts["skipped_backward"] += int((~above).sum())
        self._recent_losses.extend(losses.tolist())
        if self.stage == LOSS_THRESHOLD and self.cutoff_reached():
            self._enter(PREDICTOR, step)
        return above

    def observe_training(self, input_ids: torch.Tensor, losses: torch.Tensor, step: int) -> None:
        if self.stage != WARMUP:
            return
        self.counts["warmup_trained"] += len(losses)
        self._record(step, losses, examples=len(losses), trained=len(losses))
        self._warmup_losses.extend(losses.float().tolist())
        self._warmup_examples.append((input_ids, losses.float()))
        if self.warmup_done(step + 1):
            self.end_warmup(step + 1)

    # -- stages -----------------------------------------------------------------------------------

    def warmup_done(self, steps: int) -> bool:
        """After `warmup_steps`; with a plateau tolerance, also once the loss has stopped falling."""
        config = self.config
        if steps < config.warmup_steps:
            return False
        capped = config.max_warmup_steps is not None and steps >= config.max_warmup_steps
        return config.plateau_tolerance is None or capped or self.loss_plateaued()

    def loss_plateaued(self) -> bool:
        """The last window of trained losses is no more than `plateau_tolerance` (relative) under the one before."""
        window = self.config.threshold_window
        if len(self._warmup_losses) < 2 * window:
            return False
        losses = list(self._warmup_losses)
        previous, recent = sum(losses[:window]) / window, sum(losses[window:]) / window
        return recent >= previous * (1 - self.config.plateau_tolerance)

    def end_warmup(self, step: int) -> None:
        """Freeze the threshold at the running mean, and teach the predictor the warm-up examples."""
        recent = list(self._warmup_losses)[-self.config.threshold_window:]
        self.threshold = sum(recent) / len(recent)
        for input_ids, losses in self._warmup_examples:
            self._learn(input_ids, losses > self.threshold)
        self._warmup_examples.clear()
        self._enter(LOSS_THRESHOLD, step)

    @property
    def cutoff(self) -> float | None:
        """The recent stream loss at which stage 2 starts."""
        return None if self.threshold is None else self.config.cutoff_ratio * self.threshold

    def recent_loss(self) -> float | None:
        """Mean loss of the last `cutoff_window` forwarded examples (None until the window is full)."""
        if len(self._recent_losses) < self.config.cutoff_window:
            return None
        return sum(self._recent_losses) / len(self._recent_losses)

    def cutoff_reached(self) -> bool:
        recent = self.recent_loss()
        return (recent is not None and recent <= self.cutoff
                and self.counts["predictor_examples"] >= self.config.min_predictor_examples
                and self.recent_balanced_accuracy() >= self.config.min_predictor_balanced_accuracy)

    def recent_balanced_accuracy(self) -> float:
        """Mean recall on important and unimportant examples lately (a class not seen counts as a coin: 0.5)."""
        recalls = []
        for important in (True, False):
            said = [s for s, was in self._recent_calls if was == important]
            recalls.append(sum(s == important for s in said) / len(said) if said else 0.5)
        return sum(recalls) / 2

    def _enter(self, stage: int, step: int) -> None:
        self.transitions.append({"from": self.stage, "to": stage, "step": step,
                                 "recent_loss": self.recent_loss(), "threshold": self.threshold})
        self.stage = stage

    def _learn(self, input_ids: torch.Tensor, labels: torch.Tensor) -> None:
        """Prequential: score the examples first (the predictor's honest accuracy), then learn from them."""
        said = self.predictor.predict_proba(input_ids) >= self.config.decision_probability
        correct = int((said == labels).sum())
        self._recent_calls.extend(zip(said.tolist(), labels.bool().tolist()))
        self.counts["predictor_correct"] += correct
        self.counts["predictor_examples"] += len(labels)
        if self.stage == PREDICTOR:
            self.counts["predictor_correct_stage2"] += correct
            self.counts["predictor_examples_stage2"] += len(labels)
        self.predictor.update(input_ids, labels)

    def _record(self, step: int, losses: torch.Tensor | None, *, examples: int, trained: int) -> None:
        """One batch in the trace (kept only with `record_trace`: builds plot it, long runs need not hold it)."""
        if self.trace is not None:
            loss = None if losses is None else float(losses.float().mean())
            self.trace.append({"step": step, "loss": loss, "stage": self.stage, "examples": examples,
                               "trained": trained})

    # -- reporting --------------------------------------------------------------------------------

    def describe(self) -> dict:
        return {"name": self.name, "predictor": self.predictor.config(), "start_stage": self.start_stage,
                "threshold": self.threshold, **self.config.to_dict()}

    def stats(self) -> dict:
        counts = self.counts
        seen = counts["predictor_examples"]
        return {"stage": self.stage, "start_stage": self.start_stage, "threshold": self.threshold,
                "cutoff": self.cutoff, "transitions": list(self.transitions), **counts,
                "predictor_accuracy": counts["predictor_correct"] / seen if seen else None,
                "recent_predictor_balanced_accuracy": self.recent_balanced_accuracy() if seen else None,
                "positive_rate": counts["above_threshold"] / counts["forwarded"] if counts["forwarded"] else None}
