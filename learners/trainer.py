"""Drop-in filtering for Hugging Face `Trainer` scripts: wrap the training set, add one callback.

Example:
    >>> data = FilteredDataset(train_dataset, InformationGainFilter(learner, ShiftingThreshold()))
    >>> trainer = Trainer(model=model, args=TrainingArguments(..., max_steps=60),
    ...                   train_dataset=data, callbacks=[data.callback])

The wrapper is an `IterableDataset`: rejected examples are dropped while batches are assembled, before
the model sees them, so they cost no forward or backward pass. The callback keeps the filter's notion
of the current optimizer step in sync with the Trainer (the shifting threshold needs it). Keep
`dataloader_num_workers=0` (the default) so the filter runs where the callback updates it.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import torch
from torch.utils.data import IterableDataset
from transformers import TrainerCallback

from .filters import ContextFilter


class FilterStepCallback(TrainerCallback):
    """Tells a `FilteredDataset` which optimizer step the Trainer is on."""

    def __init__(self, dataset: "FilteredDataset") -> None:
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
        self.seen = 0
        self.accepted = 0
        self.callback = FilterStepCallback(self)

    def counts(self) -> dict:
        return {"seen": self.seen, "accepted": self.accepted, "skipped": self.seen - self.accepted}

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
        self.seen += len(chunk)
        self.accepted += sum(keep)
        for example, accepted in zip(chunk, keep):
            if accepted:
                yield example
