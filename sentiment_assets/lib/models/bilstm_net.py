"""The stacked BiLSTM network of the BiLSTM member (PyTorch), without training or storage.

Embedding → dropout → 2-layer bidirectional LSTM (dropout between layers) → [last forward and
backward states ; max over time] → dropout → dense → ReLU → dropout → logits, following the
seed's "Embedding → Dropout → Bi-LSTM → Dropout → Bi-LSTM → Dense → Dropout → Output". The
max-pool next to the final states lets one strongly worded morpheme anywhere in a long post
count, where the final states favour the ends of the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.models.vocab import PAD


@dataclass(frozen=True)
class BiLstmConfig:
    """Hyperparameters of the BiLSTM member."""

    vocab_size: int = 20_000
    min_count: int = 2
    embedding_dim: int = 128
    hidden: int = 128
    layers: int = 2
    dense: int = 64
    dropout: float = 0.3
    learning_rate: float = 2e-3
    decay_rate: float = 0.6
    """Learning-rate factor per epoch: the later passes over a large corpus refine, not relearn."""
    clip_norm: float = 1.0
    """Gradient-norm clip, always on: LSTMs explode now and then, a continued model more so."""
    patience: int = 2


class BiLstmNet(nn.Module):
    """Ids (batch, time) and lengths (batch,) in, class logits (batch, len(LABELS)) out."""

    def __init__(self, vocab_size: int, config: BiLstmConfig):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden,
            num_layers=config.layers,
            bidirectional=True,
            batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.dense = nn.Linear(4 * config.hidden, config.dense)
        self.out = nn.Linear(config.dense, len(LABELS))
        self._init_weights(config.hidden)

    def _init_weights(self, hidden: int) -> None:
        # PyTorch's N(0, 1) embeddings dwarf what Adam moves per step, so a fresh model learns
        # its words slowly; small embeddings, orthogonal recurrences and a forget-gate bias of 1
        # (the Keras defaults) reach a useful model in far fewer epochs.
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        with torch.no_grad():
            self.embedding.weight[PAD].zero_()
        for name, param in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(param)
            elif name.startswith("weight_hh"):
                for gate in param.data.chunk(4, dim=0):
                    nn.init.orthogonal_(gate)
            else:
                nn.init.zeros_(param)
                if name.startswith("bias_ih"):
                    param.data[hidden : 2 * hidden].fill_(1.0)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of right-padded id sequences."""
        x = self.dropout(self.embedding(ids))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, (hidden, _) = self.lstm(packed)
        # Padded steps come back as zeros; push them to -inf so the max ignores them.
        padded, _ = pad_packed_sequence(outputs, batch_first=True, padding_value=float("-inf"))
        pooled = padded.max(dim=1).values
        last = torch.cat([hidden[-2], hidden[-1]], dim=1)
        features = self.dropout(torch.cat([last, pooled], dim=1))
        return self.out(self.dropout(torch.relu(self.dense(features))))
