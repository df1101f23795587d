"""The fine-tuning loop that any filter steers, on `accelerate` (one CPU, GPUs or nodes).

Candidates come from a source (random contexts for a number of steps, or one epoch over fixed
examples) and are shown to the filter before the model sees them; only accepted examples are batched
and trained on. Filters that need each example's loss get a no-grad forward pass first. The result
counts, per example, what each filter saved.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
from accelerate import Accelerator
from torch import nn
from tqdm.auto import tqdm

from cards.format.errors import LearnerHubError

from ...constants import (
    DEFAULT_ADAM_EPS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_EVAL_EVERY,
    DEFAULT_LEARNING_RATE,
    DEFAULT_MAX_GRAD_NORM,
    DEFAULT_STEPS,
)
from ...context_filter import ContextFilter
from ...corpora.contexts import ContextStream
from ...corpora.examples import Examples, OneEpoch, RandomContexts, as_source
from ...corpora.tasks import CausalLMTask
from ...distributed import make_accelerator
from ...progress import step_bar
from .screening import FilterCounts, screen


@dataclass
class FinetuneConfig:
    """The paper's protocol by default: batch 16, AdamW lr 5e-5, clip 3.0, 60 steps, eval every 10.

    `steps=None` trains until the source runs out (one epoch over fixed examples). `lr_schedule`
    "cosine" or "linear" decays the rate to zero over `steps` (transformers' schedulers): the fully
    decayed baseline that selection gains are read against at matched compute (Kaddour et al. 2023).
    """

    steps: int | None = DEFAULT_STEPS
    batch_size: int = DEFAULT_BATCH_SIZE
    lr: float = DEFAULT_LEARNING_RATE
    eps: float = DEFAULT_ADAM_EPS
    max_grad_norm: float = DEFAULT_MAX_GRAD_NORM
    eval_every: int = DEFAULT_EVAL_EVERY
    lr_schedule: str = "constant"
    candidates_per_draw: int = 64
    max_candidates_per_step: int = 5000
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FinetuneResult:
    """What happened in one fine-tuning run, counted per example."""

    filter: dict
    config: dict
    metric: str = "test_perplexity"
    train_loss: list[float] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    counts: FilterCounts = field(default_factory=FilterCounts)
    wall_seconds: float = 0.0
    filter_stats: dict = field(default_factory=dict)

    # The names results and benchmarks have always used for the counts.
    @property
    def contexts_seen(self) -> int:
        return self.counts.seen

    @property
    def skipped_before_forward(self) -> int:
        return self.counts.skipped_before_forward

    @property
    def skipped_after_forward(self) -> int:
        return self.counts.skipped_after_forward

    @property
    def scoring_forward_contexts(self) -> int:
        return self.counts.forwarded_for_filter

    @property
    def lm_backward_contexts(self) -> int:
        return self.counts.trained

    @property
    def lm_forward_contexts(self) -> int:
        """Contexts the LM ran forward on: for the filter (no grad) and for training."""
        return self.counts.forwarded_for_filter + self.counts.trained

    @property
    def final_score(self) -> float:
        return self.evaluations[-1][self.metric]

    @property
    def acceptance_rate(self) -> float:
        """Fraction of the candidates drawn that the filter let through (trained on or left in the buffer)."""
        return self.counts.acceptance_rate

    @property
    def final_perplexity(self) -> float:
        return self.evaluations[-1]["test_perplexity"]

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["counts"]
        data.update(contexts_seen=self.contexts_seen, contexts_accepted=self.lm_backward_contexts,
                    skipped_before_forward=self.skipped_before_forward,
                    skipped_after_forward=self.skipped_after_forward,
                    scoring_forward_contexts=self.scoring_forward_contexts,
                    lm_forward_contexts=self.lm_forward_contexts,
                    lm_backward_contexts=self.lm_backward_contexts)
        data["final_score"] = self.final_score
        data["acceptance_rate"] = self.acceptance_rate
        if self.metric == "test_perplexity":
            data["final_perplexity"] = self.final_perplexity
        return data


#: Schedules that decay the learning rate to zero over a run (names of transformers' `get_scheduler`).
LR_SCHEDULES = ("cosine", "linear")


def learning_rate_schedule(optimizer: torch.optim.Optimizer, config: FinetuneConfig):
    """None for a constant rate, else a transformers scheduler decaying to zero over `config.steps`."""
    if config.lr_schedule == "constant":
        return None
    if config.lr_schedule not in LR_SCHEDULES or not config.steps:
        raise LearnerHubError(f"lr_schedule {config.lr_schedule!r}: use one of {['constant', *LR_SCHEDULES]} "
                              "(a decaying schedule needs a number of steps).")
    from transformers import get_scheduler

    return get_scheduler(config.lr_schedule, optimizer, num_warmup_steps=0, num_training_steps=config.steps)



class FilterTooStrictError(LearnerHubError, RuntimeError):
    """The filter accepts (almost) nothing, so a batch cannot be filled."""


def finetune(model: nn.Module, train: ContextStream | Examples | RandomContexts | OneEpoch,
             test: torch.Tensor | Examples, context_filter: ContextFilter | None = None,
             config: FinetuneConfig | None = None, *, task=None, accelerator: Accelerator | None = None,
             progress: bool | tqdm = False) -> FinetuneResult:
    """Fine-tune `model` in place on the examples from `train` that `context_filter` accepts.

    The test metric is measured at step 0, every `eval_every` steps and at the end. `task` defaults
    to causal language modelling (`tasks.SequenceClassificationTask` for classifiers). `progress` True
    shows a bar of this run's steps on stderr; a bar of the caller's (`learners.progress.step_bar`) is
    advanced one tick per step instead, so several runs share one count and one estimate of time left.

    Example:
        >>> result = finetune(model, split.train, split.test, InformationGainFilter(learner))
        >>> result.final_perplexity, result.skipped_before_forward
    """
    config = config or FinetuneConfig()
    context_filter = context_filter or ContextFilter()
    task = task or CausalLMTask()
    source = as_source(train)
    test = test if isinstance(test, Examples) else Examples(test)
    accelerator = accelerator or make_accelerator()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                  eps=config.eps, weight_decay=0.0)
    scheduler = learning_rate_schedule(optimizer, config)
    prepared_model, optimizer = accelerator.prepare(model, optimizer)
    generator = torch.Generator().manual_seed(config.seed * 1000 + accelerator.process_index)
    result = FinetuneResult(filter=context_filter.describe(), config=config.to_dict(), metric=task.metric)
    buffer: list[Examples] = []
    buffered = 0
    started = time.perf_counter()

    def evaluate(step: int) -> None:
        scores = task.evaluate(accelerator.unwrap_model(prepared_model), test)
        result.evaluations.append({"step": step, **scores, "seconds": time.perf_counter() - started,
                                   "contexts_seen": result.contexts_seen, "trained": result.lm_backward_contexts})

    def losses_of(candidates: Examples) -> torch.Tensor:
        prepared_model.eval()
        return task.losses(prepared_model, candidates.to(accelerator.device))

    def fill_buffer(step: int) -> bool:
        """Draw candidates until a batch is buffered; False when the source ran out first."""
        nonlocal buffered
        drawn = 0
        while buffered < config.batch_size:
            if drawn >= config.max_candidates_per_step:
                raise FilterTooStrictError(
                    f"The {context_filter.name} filter accepted {buffered} of {drawn} candidates at step {step}; "
                    f"a batch needs {config.batch_size}. Lower the threshold (e.g. --threshold constant:-1).")
            chunk = source.draw(config.candidates_per_draw, generator)
            if chunk is None:
                return False
            drawn += len(chunk)
            chunk = screen(context_filter, chunk, step, result.counts, losses_of)
            if len(chunk):
                buffer.append(chunk)
                buffered += len(chunk)
        return True

    evaluate(0)
    shared = not isinstance(progress, bool)
    bar = progress if shared else step_bar(config.steps, f"fine-tuning ({context_filter.name})",
                                           enabled=bool(progress) and accelerator.is_local_main_process)
    step = 0
    while config.steps is None or step < config.steps:
        exhausted = not fill_buffer(step)
        if buffered == 0:
            break
        pending = Examples.cat(buffer)
        batch, rest = pending[:config.batch_size], pending[config.batch_size:]
        buffer[:] = [rest] if len(rest) else []
        buffered = len(rest)

        prepared_model.train()
        losses = task.losses(prepared_model, batch.to(accelerator.device))
        weights = context_filter.loss_weights(batch.input_ids, step)
        if weights is None:
            loss = losses.mean()
        else:
            weights = weights.to(device=losses.device, dtype=losses.dtype)
            loss = (losses * weights).sum() / weights.sum()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(prepared_model.parameters(), config.max_grad_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        optimizer.zero_grad()
        result.counts.trained += len(batch)
        result.train_loss.append(float(loss.detach()))
        context_filter.observe_training(batch.input_ids, losses.detach().cpu(), step)
        step += 1
        bar.update(1)
        if step % config.eval_every == 0:
            evaluate(step)
        if exhausted and buffered == 0:
            break
    if not shared:
        bar.close()
    if result.evaluations[-1]["step"] != step:
        evaluate(step)
    result.wall_seconds = time.perf_counter() - started
    result.filter_stats = context_filter.stats()
    accelerator.free_memory()
    return result
