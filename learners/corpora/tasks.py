"""What the model is fine-tuned to do: per-example losses and the test metric, for each task.

The fine-tuning loop and the filters are task-agnostic; a task knows how to turn `Examples` into
per-example losses (causal language modelling or sequence classification) and how to score a test set.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..lm import per_example_loss, perplexity
from .examples import Examples


class CausalLMTask:
    """Next-token prediction; reported as test perplexity (lower is better)."""

    metric = "test_perplexity"

    def losses(self, model: nn.Module, batch: Examples) -> torch.Tensor:
        return per_example_loss(model, batch.input_ids)

    def evaluate(self, model: nn.Module, test: Examples, *, batch_size: int = 32) -> dict:
        return {self.metric: perplexity(model, test.input_ids, batch_size=batch_size)}


class SequenceClassificationTask:
    """`AutoModelForSequenceClassification`; reported as test accuracy (higher is better)."""

    metric = "test_accuracy"

    def losses(self, model: nn.Module, batch: Examples) -> torch.Tensor:
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
        return F.cross_entropy(logits.float(), batch.labels, reduction="none")

    @torch.no_grad()
    def evaluate(self, model: nn.Module, test: Examples, *, batch_size: int = 64) -> dict:
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        correct, loss = 0, 0.0
        for start in range(0, len(test), batch_size):
            batch = test[start:start + batch_size].to(device)
            logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits.float()
            correct += int((logits.argmax(-1) == batch.labels).sum())
            loss += float(F.cross_entropy(logits, batch.labels, reduction="sum"))
        model.train(was_training)
        return {self.metric: correct / len(test), "test_loss": loss / len(test)}
