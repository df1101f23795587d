"""Drop-in filtering for Hugging Face `Trainer` scripts, two ways.

Filters that decide from the tokens alone (IGF): wrap the training set, add one callback.

    >>> data = FilteredDataset(train_dataset, InformationGainFilter(learner))
    >>> trainer = Trainer(model=model, args=TrainingArguments(..., max_steps=60),
    ...                   train_dataset=data, callbacks=[data.callback])

The wrapper is an `IterableDataset`: rejected examples are dropped while batches are assembled, before
the model sees them, so they cost no forward or backward pass, and every batch is full. The callback
keeps the filter's notion of the current optimizer step in sync with the Trainer (the shifting
threshold needs it). Keep `dataloader_num_workers=0` (the default) so the filter runs where the
callback updates it.

Filters that also need the model's losses (the streaming filter): use `FilteringTrainer` in place of
`Trainer`.

    >>> trainer = FilteringTrainer(model=model, args=args, train_dataset=train_dataset,
    ...                            context_filter=pulled_learner.make_filter(), task=CausalLMTask())
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch
from torch.utils.data import IterableDataset
from transformers import Trainer, TrainerCallback

from ...context_filter import ContextFilter
from ...corpora.examples import Examples
from ...corpora.tasks import CausalLMTask, SequenceClassificationTask
from .screening import FilterCounts, screen


class FilterStepCallback(TrainerCallback):
    """Tells a `FilteredDataset` which optimizer step the Trainer is on."""

    def __init__(self, dataset: FilteredDataset) -> None:
        self.dataset = dataset

    def on_step_begin(self, args, state, control, **kwargs):
        self.dataset.step = state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is not None:
            logs.update({f"filter/{key}": value for key, value in self.dataset.counts().items()})


class FilteredDataset(IterableDataset):
    """Yields the examples of `dataset` (dicts with `input_ids`) that `context_filter` accepts."""

    def __init__(self, dataset: Iterable[dict], context_filter: ContextFilter, *, chunk_size: int = 64) -> None:
        self.dataset = dataset
        self.context_filter = context_filter
        self.chunk_size = chunk_size
        self.step = 0
        self.filter_counts = FilterCounts()
        self.callback = FilterStepCallback(self)

    def counts(self) -> dict:
        """What the Trainer logs as `filter/...`: examples seen, accepted, skipped."""
        counts = self.filter_counts
        return {"seen": counts.seen, "accepted": counts.seen - counts.skipped_before_forward,
                "skipped": counts.skipped_before_forward}

    def __iter__(self) -> Iterator[dict]:
        chunk: list[dict] = []
        for example in self.dataset:
            chunk.append(example)
            if len(chunk) == self.chunk_size:
                yield from self._accepted(chunk)
                chunk = []
        if chunk:
            yield from self._accepted(chunk)

    def _accepted(self, chunk: list[dict]) -> Iterator[dict]:
        ids = [torch.as_tensor(example["input_ids"], dtype=torch.long) for example in chunk]
        if len({len(x) for x in ids}) == 1:
            keep = self.context_filter.select_before_forward(torch.stack(ids), self.step).tolist()
        else:  # contexts of different lengths are scored one by one
            keep = [bool(self.context_filter.select_before_forward(x[None], self.step)[0]) for x in ids]
        self.filter_counts.seen += len(chunk)
        self.filter_counts.skipped_before_forward += len(chunk) - sum(keep)
        for example, accepted in zip(chunk, keep):
            if accepted:
                yield example


class FilteringTrainer(Trainer):
    """A `Trainer` whose training step asks a `ContextFilter` before the forward and before the backward pass.

    Each batch the Trainer draws goes through the filter's hooks in the order the learnerhub loop uses:
    `select_before_forward` (rejected examples cost nothing), then, when the filter wants losses, a
    no-grad forward and `select_after_forward` (rejected examples cost a forward but no backward), then
    a forward and backward on the survivors and `observe_training`. Unlike the learnerhub loop, survivors
    are not buffered into full batches: a Trainer step trains on what survived of its own batch, and a
    step where nothing survived runs no backward pass (the optimizer skips parameters without
    gradients). Counts of what was spared are in `filter_counts` and in the Trainer's logs.
    """

    def __init__(self, *args, context_filter: ContextFilter,
                 task: CausalLMTask | SequenceClassificationTask | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.context_filter = context_filter
        self.task = task or CausalLMTask()
        self.filter_counts = FilterCounts()

    def training_step(self, model, inputs: dict, num_items_in_batch=None) -> torch.Tensor:
        model.train()
        inputs = self._prepare_inputs(inputs)
        step = self.state.global_step

        def losses_of(candidates: Examples) -> torch.Tensor:
            with self.compute_loss_context_manager():
                return self.task.losses(model, candidates)

        batch = screen(self.context_filter, _examples(inputs, self.task), step, self.filter_counts, losses_of)
        if not len(batch):
            self.filter_counts.steps_without_backward += 1
            return torch.zeros((), device=self.args.device)
        with self.compute_loss_context_manager():
            losses = self.task.losses(model, batch)
        loss = losses.mean() / self.current_gradient_accumulation_steps
        self.accelerator.backward(loss)
        self.filter_counts.trained += len(batch)
        self.context_filter.observe_training(batch.input_ids.cpu(), losses.detach().float().cpu(), step)
        return loss.detach()

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        logs = {**logs, **{f"filter/{key}": value for key, value in self.filter_counts.to_dict().items()}}
        super().log(logs, start_time)


def _examples(inputs: dict, task) -> Examples:
    """The Trainer's collated batch as `Examples`; classification needs its class labels."""
    labels = inputs.get("labels") if isinstance(task, SequenceClassificationTask) else None
    return Examples(inputs["input_ids"], labels, inputs.get("attention_mask"))
