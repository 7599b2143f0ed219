from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoTokenizer, BertForMaskedLM

from sentiment_assets.lib.models.bert.pretrain import (
    mask_tokens,
    planned_steps,
    pretrain,
    read_report,
)
from sentiment_assets_tests.bert.tiny import TINY_PRETRAIN, TINY_SETTINGS


def test_masked_lm_loss_falls_on_real_reviews(tiny_pretrained: Path) -> None:
    report = read_report(tiny_pretrained)
    losses = report["losses"]
    assert len(losses) == report["steps"] == TINY_PRETRAIN.steps
    # ln(2000) = 7.6 is a uniform guess; the model must learn at least the token statistics.
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.3, (losses[:10], losses[-10:])
    assert report["device"] == "cpu" and report["texts"] > 1500

    model = BertForMaskedLM.from_pretrained(tiny_pretrained)
    tokenizer = AutoTokenizer.from_pretrained(tiny_pretrained)
    assert model.config.vocab_size == len(tokenizer)
    assert model.config.hidden_size == TINY_PRETRAIN.hidden_size


def test_pretraining_is_deterministic_for_a_seed(nsmc_binary: pd.DataFrame, tmp_path: Path) -> None:
    texts = nsmc_binary["text"].head(200).tolist()
    config = replace(TINY_PRETRAIN, vocab_size=500, steps=6)
    first = read_report(pretrain(texts, TINY_SETTINGS, config, tmp_path / "a"))
    second = read_report(pretrain(texts, TINY_SETTINGS, config, tmp_path / "b"))
    other = read_report(pretrain(texts, replace(TINY_SETTINGS, seed=99), config, tmp_path / "c"))
    assert first["losses"] == second["losses"]
    assert first["vocabulary_hash"] == second["vocabulary_hash"]
    assert first["losses"] != other["losses"]


def test_masking_never_touches_special_or_padding_tokens() -> None:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 100, (64, 40), generator=generator)
    ids[:, 0], ids[:, 30], ids[:, 31:] = 2, 3, 0  # [CLS] ... [SEP] then padding
    attention = (ids != 0).long()
    corrupted, labels = mask_tokens(
        ids,
        attention,
        mask_id=4,
        first_regular_id=5,
        vocab_size=100,
        probability=0.15,
        generator=generator,
    )
    chosen = labels != -100
    assert not chosen[:, [0, 30]].any() and not chosen[:, 31:].any()
    assert torch.equal(labels[chosen], ids[chosen])
    assert 0.12 < chosen[:, 1:30].float().mean() < 0.18
    assert 0.7 < (corrupted[chosen] == 4).float().mean() < 0.9
    assert torch.equal(corrupted[~chosen], ids[~chosen])


def test_masking_always_leaves_something_to_predict() -> None:
    ids = torch.tensor([[2, 7, 3]])
    _, labels = mask_tokens(
        ids,
        torch.ones_like(ids),
        mask_id=4,
        first_regular_id=5,
        vocab_size=10,
        probability=0.0,
        generator=torch.Generator().manual_seed(0),
    )
    assert labels.tolist() == [[-100, 7, -100]]


def test_pretraining_length_is_capped_by_passes_over_a_small_corpus() -> None:
    assert planned_steps(replace(TINY_PRETRAIN, steps=1000, max_passes=2.0), 320, 32) == 20
    assert planned_steps(replace(TINY_PRETRAIN, steps=10, max_passes=2.0), 320, 32) == 10
    assert planned_steps(replace(TINY_PRETRAIN, steps=1000, max_passes=None), 320, 32) == 1000


def test_pretraining_refuses_texts_without_tokens(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no text"):
        pretrain(["   ", ""], TINY_SETTINGS, TINY_PRETRAIN, tmp_path)
