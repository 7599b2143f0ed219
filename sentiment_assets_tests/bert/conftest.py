"""Shared tiny BERTs: pre-trained and fine-tuned once per session on real NSMC rows.

Everything is deliberately small (see `tiny.py`) so the whole BERT suite stays well under two
minutes on a shared 2-core machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sentiment_assets.lib.models.bert import BertMember, train
from sentiment_assets.lib.models.bert.pretrain import pretrain
from sentiment_assets_tests.bert.tiny import TINY_FINETUNE, TINY_PRETRAIN, TINY_SETTINGS, labeled
from sentiment_assets_tests.conftest import NSMC_PATH


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    # Tiny models lose more to thread hand-offs than they gain on a busy 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="package")
def nsmc_binary() -> pd.DataFrame:
    """NSMC's binary convention (1–4 negative -> 부정, 9–10 positive -> 긍정), balanced samples:
    1,600 train, 200 dev and 400 test rows."""
    if not NSMC_PATH.is_file():
        pytest.skip(f"real NSMC data not found at {NSMC_PATH}")
    frame = pd.read_parquet(NSMC_PATH, columns=["text", "rating", "split"])
    frame = frame[(frame["rating"] <= 4) | (frame["rating"] >= 9)].copy()
    frame["label"] = np.where(frame["rating"] <= 4, 0, 2)
    parts = []
    for split, size in (("train", 1600), ("dev", 200), ("test", 400)):
        for label in (0, 2):
            rows = frame.loc[(frame["split"] == split) & (frame["label"] == label)]
            parts.append(rows.sample(size // 2, random_state=7))
    return pd.concat(parts).sample(frac=1.0, random_state=7).reset_index(drop=True)


@pytest.fixture(scope="package")
def tiny_pretrained(nsmc_binary: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A masked-LM checkpoint directory pre-trained on the train texts."""
    texts = nsmc_binary.loc[nsmc_binary["split"] == "train", "text"].tolist()
    return pretrain(texts, TINY_SETTINGS, TINY_PRETRAIN, tmp_path_factory.mktemp("pretrained"))


@pytest.fixture(scope="package")
def tiny_member(nsmc_binary: pd.DataFrame, tiny_pretrained: Path) -> BertMember:
    """A member fine-tuned from `tiny_pretrained` on 1,600 rows, early-stopped on 200."""
    config = replace(TINY_FINETUNE, base_checkpoint=str(tiny_pretrained))
    return train(labeled(nsmc_binary, "train"), labeled(nsmc_binary, "dev"), TINY_SETTINGS, config)


@pytest.fixture
def saved_member(tiny_member: BertMember, tmp_path: Path) -> Path:
    """A fresh copy of the tiny member on disk, free to damage."""
    directory = tmp_path / "bert"
    directory.mkdir()
    tiny_member.save(directory)
    return directory
