"""Tiny configurations shared by the BERT tests (hidden 32, one layer, 32 tokens)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sentiment_assets.lib.models.base import LabeledTexts, TrainSettings
from sentiment_assets.lib.models.bert import BertTrainConfig, PretrainConfig

TINY_PRETRAIN = PretrainConfig(
    vocab_size=2000,
    hidden_size=32,
    num_layers=1,
    num_heads=2,
    intermediate_size=64,
    steps=80,
    learning_rate=1e-3,
    max_positions=64,
)
TINY_SETTINGS = TrainSettings(epochs=4, batch_size=32, max_len=32, device="cpu", seed=13)
TINY_FINETUNE = BertTrainConfig(
    use_pretrained_asset=False, encoder_lr=3e-3, head_lr=3e-3, patience=2, pretrain=TINY_PRETRAIN
)


def labeled(frame: pd.DataFrame, split: str) -> LabeledTexts:
    """The rows of `split` as LabeledTexts."""
    rows = frame.loc[frame["split"] == split]
    return LabeledTexts(rows["text"].tolist(), np.asarray(rows["label"]))
