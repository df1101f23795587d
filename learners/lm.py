"""Language-model losses and perplexity that every part of learnerhub measures the same way."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def per_example_loss(model: nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of each context: a (batch,) tensor, differentiable."""
    logits = model(input_ids=input_ids).logits[:, :-1].float()
    targets = input_ids[:, 1:]
    token_losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    return token_losses.view(targets.shape).mean(dim=1)


@torch.no_grad()
def mean_loss(model: nn.Module, contexts: torch.Tensor, *, batch_size: int = 32) -> float:
    """Mean loss over a set of equal-length contexts (each context weighs the same)."""
    device = next(model.parameters()).device
    total = 0.0
    for start in range(0, len(contexts), batch_size):
        batch = contexts[start:start + batch_size].to(device)
        total += float(per_example_loss(model, batch).sum())
    return total / len(contexts)


def perplexity(model: nn.Module, contexts: torch.Tensor, *, batch_size: int = 32) -> float:
    """exp(mean loss): the figure the IGF paper reports."""
    was_training = model.training
    model.eval()
    try:
        return math.exp(mean_loss(model, contexts, batch_size=batch_size))
    finally:
        model.train(was_training)
