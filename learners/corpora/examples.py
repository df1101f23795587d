"""Training examples as the fine-tuning loop sees them, and the two ways they arrive.

`Examples` is a batch of token ids (with labels and an attention mask for classification). A source
either draws random contexts for as long as the loop wants (`RandomContexts`, the IGF protocol: a
fixed number of steps) or streams a fixed set of examples once (`OneEpoch`, the streaming protocol:
one pass over a fixed budget of examples).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .contexts import ContextStream


@dataclass
class Examples:
    """Token ids (batch, time); `labels` (batch,) for classification; `attention_mask` where padded."""

    input_ids: torch.Tensor
    labels: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index) -> Examples:
        return Examples(self.input_ids[index],
                        None if self.labels is None else self.labels[index],
                        None if self.attention_mask is None else self.attention_mask[index])

    def to(self, device) -> Examples:
        return Examples(self.input_ids.to(device),
                        None if self.labels is None else self.labels.to(device),
                        None if self.attention_mask is None else self.attention_mask.to(device))

    @staticmethod
    def cat(parts: list[Examples]) -> Examples:
        first = parts[0]
        return Examples(torch.cat([p.input_ids for p in parts]),
                        None if first.labels is None else torch.cat([p.labels for p in parts]),
                        None if first.attention_mask is None else torch.cat([p.attention_mask for p in parts]))


class RandomContexts:
    """Endless random contexts from a `ContextStream` (sampled with replacement)."""

    def __init__(self, stream: ContextStream) -> None:
        self.stream = stream

    def draw(self, count: int, generator: torch.Generator) -> Examples | None:
        return Examples(self.stream.sample(count, generator))


class OneEpoch:
    """A fixed set of examples, each drawn once, in an order shuffled by the loop's seed."""

    def __init__(self, examples: Examples) -> None:
        self.examples = examples
        self._order: torch.Tensor | None = None
        self._position = 0

    def draw(self, count: int, generator: torch.Generator) -> Examples | None:
        if self._order is None:
            self._order = torch.randperm(len(self.examples), generator=generator)
        if self._position >= len(self._order):
            return None
        chosen = self._order[self._position:self._position + count]
        self._position += len(chosen)
        return self.examples[chosen]


def as_source(train: ContextStream | Examples | RandomContexts | OneEpoch) -> RandomContexts | OneEpoch:
    """Accept a context stream (random draws) or fixed examples (one epoch)."""
    if isinstance(train, ContextStream):
        return RandomContexts(train)
    if isinstance(train, Examples):
        return OneEpoch(train)
    return train
