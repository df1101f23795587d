"""Information-gain probes: label a context with how much one training step on it helps.

`ExactInformationGainProbe` is the paper's definition: one AdamW step on the context, objective-set
perplexity before minus after, then reset. It costs a step plus a full objective-set evaluation per
context.

`FastInformationGainProbe` estimates the same number to first order, for a whole batch at once. Adam's
first step from a fresh state moves every parameter by ``-lr * g / (|g| + eps)``, which is
``-lr * sign(g)`` (clipping rescales g and does not change its sign), so

    IG(x) ~= ppl_objective * lr * < g_objective , sign(g_x) >.

The per-context gradients of every linear layer come from one batched backward pass (the Opacus trick:
a linear layer's per-example weight gradient is ``dY_b^T X_b``), so no context needs a step, a reset or
an objective-set evaluation of its own.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import nn

from ..constants import DEFAULT_ADAM_EPS, DEFAULT_LEARNING_RATE, DEFAULT_MAX_GRAD_NORM
from ..lm import mean_loss, per_example_loss, perplexity
from ..progress import step_bar


class InformationGainProbe(Protocol):
    name: str

    def describe(self) -> dict: ...

    def __call__(self, contexts: torch.Tensor, *, progress: bool = False) -> torch.Tensor: ...


class ExactInformationGainProbe:
    """IG(x) = objective perplexity before - after one AdamW step on x (the paper's definition)."""

    name = "exact"

    def __init__(self, model: nn.Module, objective: torch.Tensor, *, lr: float = DEFAULT_LEARNING_RATE,
                 eps: float = DEFAULT_ADAM_EPS, max_grad_norm: float = DEFAULT_MAX_GRAD_NORM,
                 batch_size: int = 32) -> None:
        self.model, self.objective = model, objective
        self.lr, self.eps, self.max_grad_norm, self.batch_size = lr, eps, max_grad_norm, batch_size

    def describe(self) -> dict:
        return {"name": self.name, "lr": self.lr, "eps": self.eps, "max_grad_norm": self.max_grad_norm,
                "objective_size": len(self.objective)}

    def __call__(self, contexts: torch.Tensor, *, progress: bool = False) -> torch.Tensor:
        model = self.model
        device = next(model.parameters()).device
        params = [p for p in model.parameters()]
        flags = [p.requires_grad for p in params]
        snapshot = [p.detach().clone() for p in params]
        model.eval()  # no dropout: the probe must be deterministic
        before = perplexity(model, self.objective, batch_size=self.batch_size)
        gains = torch.empty(len(contexts))
        try:
            for p in params:
                p.requires_grad_(True)
            with step_bar(len(contexts), "probing information gain (exact)", enabled=progress, unit="pair") as bar:
                for index in range(len(contexts)):
                    optimizer = torch.optim.AdamW(params, lr=self.lr, eps=self.eps, weight_decay=0.0)
                    loss = per_example_loss(model, contexts[index:index + 1].to(device)).mean()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
                    optimizer.step()
                    gains[index] = before - perplexity(model, self.objective, batch_size=self.batch_size)
                    with torch.no_grad():
                        for p, saved in zip(params, snapshot):
                            p.copy_(saved)
                            p.grad = None
                    bar.update(1)
        finally:
            with torch.no_grad():
                for p, saved, flag in zip(params, snapshot, flags):
                    p.copy_(saved)
                    p.grad = None
                    p.requires_grad_(flag)
        return gains


def decoder_blocks(model: nn.Module) -> nn.ModuleList:
    """The model's stack of transformer blocks: its largest ModuleList (GPT-2 `h`, Llama `layers`, ...)."""
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
    if not lists:
        raise ValueError(f"{type(model).__name__} has no stack of blocks (nn.ModuleList) to probe.")
    return max(lists, key=lambda m: sum(p.numel() for p in m.parameters()))


def _is_conv1d(module: nn.Module) -> bool:
    """GPT-2's `Conv1D` is a linear layer with its weight stored transposed, (in, out)."""
    from transformers.pytorch_utils import Conv1D

    return isinstance(module, Conv1D)


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or _is_conv1d(module)


class FastInformationGainProbe:
    """First-order, batched estimate of the exact probe (see the module docstring).

    `layers` limits the estimate to the linear layers of the top `layers` blocks (backward stops
    there, which is cheaper); by default every block's linear layers take part. `row_fraction` keeps
    a fixed random subset of each weight matrix's output rows (scaled back up): per-example gradients
    are memory-bound on a CPU, and a sample of rows estimates the sum over all of them closely.
    `objective_parts` splits the objective set into that many parts and `score_parts` returns the
    gain against each: one backward pass serves them all, so the split-half reliability of the
    labels (how well any learner could predict them) costs nothing extra.
    """

    name = "fast"

    def __init__(self, model: nn.Module, objective: torch.Tensor, *, lr: float = DEFAULT_LEARNING_RATE,
                 batch_size: int = 16, layers: int | None = None, row_fraction: float = 0.125,
                 seed: int = 0, objective_parts: int = 1) -> None:
        if not 0 < row_fraction <= 1:
            raise ValueError(f"row_fraction must be in (0, 1]; got {row_fraction}.")
        self.model, self.objective = model, objective
        self.lr, self.batch_size, self.row_fraction, self.seed = lr, batch_size, row_fraction, seed
        self.objective_parts = max(1, min(objective_parts, len(objective)))
        blocks = decoder_blocks(model)
        self.layers = len(blocks) if layers is None else max(1, min(layers, len(blocks)))
        self._first_block = blocks[len(blocks) - self.layers]
        self._targets = [m for block in list(blocks)[len(blocks) - self.layers:]
                         for m in block.modules() if _is_linear(m)]
        self._objective_grads: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] | None = None
        self._objective_perplexity: float | None = None

    def describe(self) -> dict:
        return {"name": self.name, "estimate": "ppl * lr * <g_objective, sign(g_context)>", "lr": self.lr,
                "layers": self.layers, "row_fraction": self.row_fraction, "objective_size": len(self.objective)}

    def _prepare_objective(self) -> None:
        """Gradient of the objective-set loss w.r.t. the probed weights, once."""
        model = self.model
        device = next(model.parameters()).device
        params = [p for m in self._targets for p in (m.weight, m.bias) if p is not None]
        flags = {p: p.requires_grad for p in model.parameters()}
        try:
            for p in model.parameters():
                p.requires_grad_(False)
            for p in params:
                p.requires_grad_(True)
                p.grad = None
            generator = torch.Generator().manual_seed(self.seed)
            rows_of = []
            for module in self._targets:
                out_features = module.weight.shape[1 if _is_conv1d(module) else 0]
                keep = max(1, int(round(out_features * self.row_fraction)))
                rows_of.append(torch.randperm(out_features, generator=generator)[:keep].sort().values.to(device))
            per_part = []  # for each part: (weight grad of the sampled rows, bias grad) per probed module
            for part in torch.arange(len(self.objective)).chunk(self.objective_parts):
                objective = self.objective[part]
                for start in range(0, len(objective), self.batch_size):
                    batch = objective[start:start + self.batch_size].to(device)
                    (per_example_loss(model, batch).sum() / len(objective)).backward()
                grads = []
                for module, rows in zip(self._targets, rows_of):
                    conv1d = _is_conv1d(module)
                    out_features = module.weight.shape[1 if conv1d else 0]
                    grad = module.weight.grad.detach()
                    grad = grad[:, rows] if conv1d else grad[rows]
                    grads.append((grad.reshape(-1) * (out_features / len(rows)),
                                  None if module.bias is None else module.bias.grad.detach().clone()))
                    module.weight.grad = None
                    if module.bias is not None:
                        module.bias.grad = None
                per_part.append(grads)
            self._objective_grads = [
                (rows, torch.stack([grads[i][0] for grads in per_part], dim=1),
                 None if per_part[0][i][1] is None else torch.stack([grads[i][1] for grads in per_part], dim=1))
                for i, rows in enumerate(rows_of)]
        finally:
            for p in params:
                p.grad = None
            for p, flag in flags.items():
                p.requires_grad_(flag)
        self._objective_perplexity = math.exp(mean_loss(model, self.objective, batch_size=self.batch_size))

    def __call__(self, contexts: torch.Tensor, *, progress: bool = False) -> torch.Tensor:
        """Estimated gain of each context against the whole objective set: a (len(contexts),) tensor."""
        return self.score_parts(contexts, progress=progress).mean(dim=1)

    def score_parts(self, contexts: torch.Tensor, *, progress: bool = False) -> torch.Tensor:
        """Estimated gain against each part of the objective set: (len(contexts), objective_parts)."""
        self.model.eval()
        if self._objective_grads is None:
            self._prepare_objective()
        scores = []
        flags = {p: p.requires_grad for p in self.model.parameters()}
        try:
            for p in flags:  # per-example gradients come from hooks: no weight needs a gradient of its own
                p.requires_grad_(False)
            with step_bar(len(contexts), "probing information gain (fast)", enabled=progress, unit="pair") as bar:
                for start in range(0, len(contexts), self.batch_size):
                    scores.append(self._score_batch(contexts[start:start + self.batch_size]))
                    bar.update(len(scores[-1]))
        finally:
            for p, flag in flags.items():
                p.requires_grad_(flag)
        return torch.cat(scores) * self._objective_perplexity * self.lr

    def _score_batch(self, batch: torch.Tensor) -> torch.Tensor:
        model = self.model
        device = next(model.parameters()).device
        scores = torch.zeros(len(batch), self.objective_parts, device=device)
        handles = []

        def start_graph_here(module, args, kwargs):
            # Backward starts at the first probed block: weights need no gradient of their own.
            if args:
                return (args[0].detach().requires_grad_(True),) + tuple(args[1:]), kwargs
            kwargs["hidden_states"] = kwargs["hidden_states"].detach().requires_grad_(True)
            return args, kwargs

        def watch(module: nn.Module, rows: torch.Tensor, weight_grad: torch.Tensor, bias_grad: torch.Tensor | None):
            def on_forward(mod, inputs, output):
                if not output.requires_grad:
                    return
                activations = inputs[0].detach()
                conv1d = _is_conv1d(mod)

                def on_output_grad(grad_output):
                    sampled = grad_output[..., rows]
                    if conv1d:  # y = x @ W, W is (in, out)
                        per_example = torch.einsum("bti,bto->bio", activations, sampled)
                    else:  # y = x @ W^T, W is (out, in)
                        per_example = torch.einsum("bto,bti->boi", sampled, activations)
                    scores.add_(torch.sign(per_example.reshape(len(per_example), -1)) @ weight_grad)
                    if bias_grad is not None:
                        scores.add_(torch.sign(grad_output.sum(dim=1)) @ bias_grad)

                output.register_hook(on_output_grad)

            return module.register_forward_hook(on_forward)

        try:
            handles.append(self._first_block.register_forward_pre_hook(start_graph_here, with_kwargs=True))
            for module, (rows, weight_grad, bias_grad) in zip(self._targets, self._objective_grads):
                handles.append(watch(module, rows, weight_grad, bias_grad))
            with torch.enable_grad():
                per_example_loss(model, batch.to(device)).sum().backward()
        finally:
            for handle in handles:
                handle.remove()
        return scores.detach().cpu()


def make_probe(name: str, model: nn.Module, objective: torch.Tensor, **options) -> InformationGainProbe:
    """`exact` or `fast`, by name (the CLI's --probe)."""
    probes = {"exact": ExactInformationGainProbe, "fast": FastInformationGainProbe}
    if name not in probes:
        raise ValueError(f"Unknown probe {name!r}; choose one of {sorted(probes)}.")
    return probes[name](model, objective, **options)
