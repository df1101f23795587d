"""Fine-tune the same starting model once per filter and put the results side by side."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from accelerate import Accelerator
from torch import nn
from tqdm.auto import tqdm

from ...context_filter import ContextFilter
from ...corpora.contexts import ContextStream, CorpusSplit
from ...corpora.examples import Examples
from ...progress import step_bar
from ..training.loop import FinetuneConfig, FinetuneResult, finetune


@dataclass
class TrainOn:
    """An arm that trains on other data than the split's (e.g. the clean target, beside the pool)."""

    train: ContextStream | Examples
    context_filter: ContextFilter | None = None


def compare_filters(model: nn.Module, split: CorpusSplit, filters: dict[str, ContextFilter | TrainOn | None],
                    config: FinetuneConfig | None = None, *, accelerator: Accelerator | None = None,
                    progress: bool | tqdm = False) -> dict[str, FinetuneResult]:
    """Run `finetune` for each named filter from the same initial weights and the same seed.

    The model is restored to its initial weights after each arm (and at the end), so the arms are
    comparable and the caller's model is left as it was given. A `TrainOn` arm draws its training
    contexts from its own data instead of `split.train`. `progress` True shows one bar of every arm's
    steps (with the time left for all of them); a caller's bar is advanced instead, the arm's name after it.
    """
    config = config or FinetuneConfig()
    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    own = progress is True and config.steps is not None
    bar = step_bar(len(filters) * (config.steps or 0), "fine-tuning") if own else progress
    results = {}
    try:
        for name, arm in filters.items():
            train, context_filter = (arm.train, arm.context_filter) if isinstance(arm, TrainOn) else (split.train, arm)
            if not isinstance(bar, bool):
                bar.set_postfix_str(name, refresh=False)
            results[name] = finetune(model, train, split.test, context_filter, config,
                                     accelerator=accelerator, progress=bar)
            model.load_state_dict(initial)
    finally:
        if own and not isinstance(bar, bool):
            bar.close()
        model.load_state_dict(initial)
        torch.set_grad_enabled(True)
    return results


def comparison_table(results: dict[str, FinetuneResult]) -> str:
    """Test perplexity by step, one column per arm, and each arm's ratio to the first."""
    names = list(results)
    baseline = names[0]
    header = ["step", *names] + [f"{name}/{baseline}" for name in names[1:]]
    rows = []
    for index, evaluation in enumerate(results[baseline].evaluations):
        values = [results[name].evaluations[index]["test_perplexity"] for name in names]
        rows.append([str(evaluation["step"]), *(f"{v:.2f}" for v in values),
                     *(f"{v / values[0]:.3f}" for v in values[1:])])
    counts = [["contexts seen", *(str(results[n].contexts_seen) for n in names)],
              ["LM forward", *(str(results[n].lm_forward_contexts) for n in names)],
              ["LM backward", *(str(results[n].lm_backward_contexts) for n in names)],
              ["skipped before LM", *(str(results[n].skipped_before_forward) for n in names)],
              ["wall seconds", *(f"{results[n].wall_seconds:.1f}" for n in names)]]
    widths = [max(len(row[i]) for row in [header, *rows, *counts] if i < len(row)) for i in range(len(header))]

    def line(cells):
        return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths))

    return "\n".join(["test perplexity", line(header), *map(line, rows), "", *map(line, counts)])
