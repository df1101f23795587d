"""The IGF secondary learner's network: a small convolutional head over frozen input embeddings."""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from cards.format.constants import LIBRARY_NAME


class InformationGainHead(nn.Module, PyTorchModelHubMixin, library_name=LIBRARY_NAME,
                          tags=["learnerhub", "information-gain-filtration"], license="apache-2.0"):
    """Conv1d(embedding_dim -> channels, kernel 3) -> max-pool over time -> MLP -> one score.

    The shape of the reference head of the IGF paper. It takes embeddings, not token ids: the base
    model's embedding matrix stays in the base model and is never copied into the learner file.
    """

    def __init__(self, embedding_dim: int, channels: int = 256, kernel_size: int = 3, hidden: int = 32,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(embedding_dim, channels, kernel_size, padding=kernel_size // 2)
        self.fc1 = nn.Linear(channels, hidden)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    head_type = "conv"

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(batch, time, embedding_dim) -> (batch,) predicted z-scored information gain."""
        features = self.conv(embeddings.transpose(1, 2)).amax(dim=2)
        return self.out(self.fc2(self.dropout(self.fc1(features)))).squeeze(-1)

    def score_contexts(self, input_ids: torch.Tensor, embeddings: nn.Module) -> torch.Tensor:
        """Raw predictions for token ids, embedded by the base model's (frozen) input embeddings."""
        embedded = embeddings(input_ids.to(embeddings.weight.device))
        return self.forward(embedded.to(self.conv.weight.dtype)).float().cpu()

    def head_config(self) -> dict:
        return {"head": self.head_type, "embedding_dim": self.conv.in_channels, "channels": self.conv.out_channels,
                "kernel_size": self.conv.kernel_size[0], "hidden": self.fc1.out_features, "dropout": self.dropout.p}
