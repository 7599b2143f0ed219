from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from sentiment_assets.lib.models.base import LABELS, LabeledTexts, Manifest, save_version
from sentiment_assets.lib.models.bert import BertMember, BertTrainConfig, train
from sentiment_assets.lib.models.bert.finetune import (
    ProgressiveUnfreezing,
    class_weights,
    finetune,
    layer_groups,
    parameter_groups,
)
from sentiment_assets.lib.models.bert.tokenizer import encode
from sentiment_assets_tests.bert.tiny import TINY_FINETUNE, TINY_SETTINGS, labeled


def _binary_accuracy(proba: np.ndarray, labels: np.ndarray) -> float:
    # NSMC convention: argmax over negative vs positive only.
    return float((np.where(proba[:, 2] > proba[:, 0], 2, 0) == labels).mean())


def test_fine_tuned_tiny_bert_beats_chance_on_held_out_reviews(
    tiny_member: BertMember, nsmc_binary: pd.DataFrame
) -> None:
    test = labeled(nsmc_binary, "test")
    proba = tiny_member.predict_proba(test.texts)
    assert proba.shape == (400, len(LABELS))
    assert np.allclose(proba.sum(axis=1), 1.0)
    accuracy = _binary_accuracy(proba, test.labels)
    # 400 balanced rows: chance is 0.5 with a standard deviation of 0.025.
    assert accuracy >= 0.62, accuracy
    assert tiny_member.info["base"].startswith("base:")
    assert tiny_member.metrics["dev_accuracy"] > 0.6
    assert len(tiny_member.info["history"]) >= 2


def test_save_load_round_trip_gives_identical_probabilities(
    tiny_member: BertMember, nsmc_binary: pd.DataFrame, tmp_path: Path
) -> None:
    texts = nsmc_binary["text"].head(64).tolist()
    path = save_version(tiny_member, tmp_path, Manifest(member="bert", version="v1"))
    assert {p.name for p in path.iterdir()} >= {
        "model.safetensors",
        "config.json",
        "tokenizer.json",
    }
    loaded = BertMember.load(path, device="cpu")
    assert np.array_equal(loaded.predict_proba(texts), tiny_member.predict_proba(texts))
    assert loaded.vocabulary_hash == tiny_member.vocabulary_hash
    assert loaded.max_len == tiny_member.max_len
    assert loaded.metrics == pytest.approx(tiny_member.metrics)


def test_odd_inputs_are_predicted_and_long_texts_truncated_to_max_len(
    tiny_member: BertMember,
) -> None:
    assert tiny_member.predict_proba([]).shape == (0, len(LABELS))
    sentence = "이 영화 정말 재미있고 배우들 연기도 훌륭했다 "
    odd = ["", "   ", "😀😀😀", "good movie", "ㅋㅋㅋㅋ", sentence * 500]
    proba = tiny_member.predict_proba(odd)
    assert proba.shape == (len(odd), len(LABELS))
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
    # Past max_len tokens nothing is read: a 10,000-character text scores like its head.
    head = tiny_member.predict_proba([sentence * 20])
    assert np.allclose(proba[-1:], head, atol=1e-6)


def test_batching_does_not_change_predictions(
    tiny_member: BertMember, nsmc_binary: pd.DataFrame
) -> None:
    texts = nsmc_binary["text"].head(40).tolist()
    together = tiny_member.predict_proba(texts)
    one_by_one = np.vstack([tiny_member.predict_proba([t]) for t in texts[:5]])
    assert np.allclose(together[:5], one_by_one, atol=1e-5)


def _tiny_classifier(pretrained: Path):
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(pretrained, num_labels=len(LABELS))


@pytest.mark.parametrize(
    ("unfreeze_every", "trained"),
    [
        (2.0, ("classifier.", "bert.pooler.")),  # the stage outlasts the run: head only
        (0.5, ("classifier.", "bert.pooler.", "bert.encoder.layer.0.")),  # then the top layer
    ],
)
def test_progressive_unfreezing_trains_the_top_first(
    tiny_pretrained: Path,
    nsmc_binary: pd.DataFrame,
    unfreeze_every: float,
    trained: tuple[str, ...],
) -> None:
    from transformers import AutoTokenizer

    model = _tiny_classifier(tiny_pretrained)
    tokenizer = AutoTokenizer.from_pretrained(tiny_pretrained)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = labeled(nsmc_binary, "train")
    data = LabeledTexts(data.texts[:128], data.labels[:128])  # 4 steps of 32
    rows = encode(tokenizer, data.texts, 32)
    config = replace(TINY_FINETUNE, unfreeze_every=unfreeze_every)
    settings = replace(TINY_SETTINGS, epochs=1)
    empty = LabeledTexts([], np.array([], dtype=int))
    finetune(model, rows, data, [], empty, settings, config, pad_id=0)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    prefixes = {p for p in trained for k in changed if k.startswith(p)}
    assert prefixes == set(trained), changed
    assert all(any(k.startswith(p) for p in trained) for k in changed), changed
    assert all(p.requires_grad for p in model.parameters())  # handed back fully trainable


def test_unfreezing_schedule_and_learning_rates(tiny_pretrained: Path) -> None:
    model = _tiny_classifier(tiny_pretrained)
    groups = layer_groups(model)
    assert len(groups) == 3  # head, layer 0, embeddings
    schedule = ProgressiveUnfreezing(groups, stage_steps=10)
    trainable = []
    for step in (0, 9, 10, 20, 500):
        schedule.apply(step)
        trainable.append([all(p.requires_grad for p in g) for g in groups])
    assert trainable == [
        [True, False, False],
        [True, False, False],
        [True, True, False],
        [True, True, True],
        [True, True, True],
    ]
    config = BertTrainConfig(encoder_lr=1e-4, head_lr=1e-3, weight_decay=0.01)
    by_lr = {}
    for group in parameter_groups(model, config):
        for param in group["params"]:
            by_lr[id(param)] = (group["lr"], group["weight_decay"])
    assert {by_lr[id(p)][0] for p in groups[0]} == {1e-3}
    assert {by_lr[id(p)][0] for p in groups[1] + groups[2]} == {1e-4}
    norm = model.bert.embeddings.LayerNorm.weight
    assert by_lr[id(norm)][1] == 0.0
    assert by_lr[id(model.classifier.weight)][1] == 0.01


def test_class_weights_balance_present_classes_only() -> None:
    weights = class_weights(np.array([0, 0, 0, 2]))
    assert weights.tolist() == pytest.approx([4 / 6, 1.0, 4 / 2])


def test_early_stopping_ends_a_run_that_stops_improving(
    tiny_pretrained: Path, nsmc_binary: pd.DataFrame
) -> None:
    # With learning rates of zero the dev score can never improve after the first epoch.
    config = replace(
        TINY_FINETUNE, base_checkpoint=str(tiny_pretrained), encoder_lr=0.0, head_lr=0.0, patience=1
    )
    train_rows = labeled(nsmc_binary, "train")
    small = LabeledTexts(train_rows.texts[:64], train_rows.labels[:64])
    member = train(small, labeled(nsmc_binary, "dev"), replace(TINY_SETTINGS, epochs=6), config)
    assert [r["epoch"] for r in member.info["history"]] == [1, 2]


def test_continues_from_a_saved_member(
    saved_member: Path, tiny_member: BertMember, nsmc_binary: pd.DataFrame
) -> None:
    train_rows = labeled(nsmc_binary, "train")
    small = LabeledTexts(train_rows.texts[:96], train_rows.labels[:96])
    settings = replace(TINY_SETTINGS, epochs=1, init_from=saved_member)
    member = train(small, labeled(nsmc_binary, "dev"), settings, TINY_FINETUNE)
    assert member.info["base"] == f"init_from:{saved_member}"
    assert member.vocabulary_hash == tiny_member.vocabulary_hash
    texts = nsmc_binary["text"].head(20).tolist()
    assert not np.array_equal(member.predict_proba(texts), tiny_member.predict_proba(texts))
