"""Cut a tokenized corpus into fixed-length contexts, and split it into train, objective and test parts.

Splits are by document (as in the IGF paper: the objective set is one random window from each of N
held-out documents), so no objective or test text leaks into the contexts a learner is trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import CorpusError
from .corpus import Corpus


@dataclass
class TokenizedCorpus:
    """The documents of a corpus as token-id tensors, keeping only those at least one context long."""

    name: str
    documents: list[torch.Tensor]
    context_length: int

    @classmethod
    def from_corpus(cls, corpus: Corpus, tokenizer, *, context_length: int) -> TokenizedCorpus:
        documents = []
        for text in corpus.documents:
            ids = tokenizer(text, add_special_tokens=False, return_attention_mask=False)["input_ids"]
            if len(ids) >= context_length:
                documents.append(torch.tensor(ids, dtype=torch.long))
        if not documents:
            raise CorpusError(f"No document of corpus {corpus.name!r} ({len(corpus)} documents) is at least "
                              f"{context_length} tokens long. Use longer documents or a shorter --context-length.")
        return cls(name=corpus.name, documents=documents, context_length=context_length)

    def split(self, *, objective_size: int, test_size: int, seed: int) -> CorpusSplit:
        """Hold out whole documents for the objective set and the test set; the rest is for training."""
        needed = objective_size + test_size + 1
        if len(self.documents) < needed:
            raise CorpusError(f"Corpus {self.name!r} has {len(self.documents)} usable documents; {needed} are needed "
                              f"(objective set {objective_size} + test set {test_size} + at least one to train on). "
                              "Use a larger corpus or lower --objective-size / --test-size.")
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(self.documents), generator=generator).tolist()
        objective_docs = [self.documents[i] for i in order[:objective_size]]
        test_docs = [self.documents[i] for i in order[objective_size:objective_size + test_size]]
        train_docs = [self.documents[i] for i in sorted(order[objective_size + test_size:])]
        return CorpusSplit(
            objective=one_window_each(objective_docs, self.context_length, generator),
            test=one_window_each(test_docs, self.context_length, generator),
            train=ContextStream(train_docs, self.context_length),
        )


def one_window_each(documents: list[torch.Tensor], length: int, generator: torch.Generator) -> torch.Tensor:
    """One random window of `length` tokens from each document: a (len(documents), length) tensor."""
    windows = []
    for document in documents:
        start = int(torch.randint(0, len(document) - length + 1, (1,), generator=generator))
        windows.append(document[start:start + length])
    return torch.stack(windows)


class ContextStream:
    """Random training contexts drawn from the training documents, reproducibly from a seed.

    A document is picked with probability proportional to its number of windows, so every window of
    the training text is equally likely.
    """

    def __init__(self, documents: list[torch.Tensor], context_length: int) -> None:
        self.documents = documents
        self.context_length = context_length
        self._window_counts = torch.tensor([len(d) - context_length + 1 for d in documents], dtype=torch.double)

    @property
    def window_count(self) -> int:
        return int(self._window_counts.sum())

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """`count` contexts, a (count, context_length) tensor."""
        picks = torch.multinomial(self._window_counts, count, replacement=True, generator=generator)
        windows = []
        for doc_index in picks.tolist():
            document = self.documents[doc_index]
            start = int(torch.randint(0, len(document) - self.context_length + 1, (1,), generator=generator))
            windows.append(document[start:start + self.context_length])
        return torch.stack(windows)


@dataclass
class CorpusSplit:
    """Objective and test sets (held out), the contexts to train on, and the target's own training text.

    `target_train` is set when the training contexts come from a pool other than the target: the
    target's documents outside the objective and test sets, which calibrate where target text scores.
    """

    objective: torch.Tensor
    test: torch.Tensor
    train: ContextStream
    target_train: ContextStream | None = None

    @property
    def target_contexts(self) -> ContextStream:
        """Where held-out target text comes from: the target's own training documents, or the pool's."""
        return self.target_train if self.target_train is not None else self.train
