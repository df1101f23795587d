"""The fine-tuning loop that any context filter steers, on `accelerate` (one CPU, GPUs or nodes).

Candidates are drawn from the training stream and shown to the filter before the language model sees
them; only accepted contexts are batched and trained on. The result counts what each filter saved.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
from accelerate import Accelerator
from torch import nn
from tqdm.auto import tqdm

from .constants import (
    DEFAULT_ADAM_EPS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_EVAL_EVERY,
    DEFAULT_LEARNING_RATE,
    DEFAULT_MAX_GRAD_NORM,
    DEFAULT_STEPS,
)
from .contexts import ContextStream
from .distributed import make_accelerator
from .errors import LearnerHubError
from .filters import ContextFilter
from .lm import per_example_loss, perplexity


@dataclass
class FinetuneConfig:
    """The paper's protocol by default: batch 16, AdamW lr 5e-5, clip 3.0, 60 steps, eval every 10."""

    steps: int = DEFAULT_STEPS
    batch_size: int = DEFAULT_BATCH_SIZE
    lr: float = DEFAULT_LEARNING_RATE
    eps: float = DEFAULT_ADAM_EPS
    max_grad_norm: float = DEFAULT_MAX_GRAD_NORM
    eval_every: int = DEFAULT_EVAL_EVERY
    candidates_per_draw: int = 64
    max_candidates_per_step: int = 5000
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FinetuneResult:
    """What happened in one fine-tuning run, counted per context."""

    filter: dict
    config: dict
    train_loss: list[float] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    contexts_seen: int = 0
    contexts_accepted: int = 0
    skipped_before_forward: int = 0
    skipped_after_forward: int = 0
    lm_forward_contexts: int = 0
    lm_backward_contexts: int = 0
    wall_seconds: float = 0.0

    @property
    def final_perplexity(self) -> float:
        return self.evaluations[-1]["test_perplexity"]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["final_perplexity"] = self.final_perplexity
        return data


class FilterTooStrictError(LearnerHubError, RuntimeError):
    """The filter accepts (almost) nothing, so a batch cannot be filled."""


def finetune(model: nn.Module, train: ContextStream, test: torch.Tensor, context_filter: ContextFilter | None = None,
             config: FinetuneConfig | None = None, *, accelerator: Accelerator | None = None,
             progress: bool = False) -> FinetuneResult:
    """Fine-tune `model` in place on contexts from `train` that `context_filter` accepts.

    Test perplexity is measured at step 0, every `eval_every` steps and at the end.

    Example:
        >>> result = finetune(model, split.train, split.test, InformationGainFilter(learner))
        >>> result.final_perplexity, result.skipped_before_forward
    """
    config = config or FinetuneConfig()
    context_filter = context_filter or ContextFilter()
    accelerator = accelerator or make_accelerator()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, eps=config.eps, weight_decay=0.0)
    prepared_model, optimizer = accelerator.prepare(model, optimizer)
    generator = torch.Generator().manual_seed(config.seed * 1000 + accelerator.process_index)
    result = FinetuneResult(filter=context_filter.describe(), config=config.to_dict())
    accepted: list[torch.Tensor] = []
    started = time.perf_counter()

    def evaluate(step: int) -> None:
        ppl = perplexity(accelerator.unwrap_model(prepared_model), test)
        result.evaluations.append({"step": step, "test_perplexity": ppl})

    evaluate(0)
    for step in tqdm(range(config.steps), desc=f"fine-tuning ({context_filter.name})", unit="step",
                     disable=not (progress and accelerator.is_local_main_process)):
        drawn = 0
        while len(accepted) < config.batch_size:
            if drawn >= config.max_candidates_per_step:
                raise FilterTooStrictError(
                    f"The {context_filter.name} filter accepted {len(accepted)} of {drawn} candidate contexts at step "
                    f"{step}; a batch needs {config.batch_size}. Lower the threshold (e.g. --threshold constant:-1).")
            candidates = train.sample(config.candidates_per_draw, generator)
            drawn += len(candidates)
            keep = context_filter.select_before_forward(candidates, step)
            result.contexts_seen += len(candidates)
            result.skipped_before_forward += int((~keep).sum())
            accepted.extend(candidates[keep])
        batch = torch.stack(accepted[:config.batch_size]).to(accelerator.device)
        del accepted[:config.batch_size]

        prepared_model.train()
        losses = per_example_loss(prepared_model, batch)
        result.lm_forward_contexts += len(batch)
        keep = context_filter.select_after_forward(batch.cpu(), losses.detach().cpu(), step).to(losses.device)
        result.skipped_after_forward += int((~keep).sum())
        if keep.any():
            loss = losses[keep].mean()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(prepared_model.parameters(), config.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad()
            result.lm_backward_contexts += int(keep.sum())
            result.contexts_accepted += int(keep.sum())
            result.train_loss.append(float(loss.detach()))
        if (step + 1) % config.eval_every == 0 or step + 1 == config.steps:
            evaluate(step + 1)
    result.wall_seconds = time.perf_counter() - started
    accelerator.free_memory()
    return result
