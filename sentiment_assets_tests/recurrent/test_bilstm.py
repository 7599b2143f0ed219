from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sentiment_assets.lib.models import bilstm
from sentiment_assets.lib.models.base import (
    LabeledTexts,
    Manifest,
    ModelLoadError,
    TrainSettings,
    new_version,
    save_version,
)
from sentiment_assets.lib.models.bilstm import BiLstmMember
from sentiment_assets.lib.models.bilstm_net import BiLstmConfig
from sentiment_assets.lib.models.vocab import VOCAB_FILE, Vocabulary
from sentiment_assets_tests.recurrent.conftest import BAD_INPUTS, Rows

pytestmark = pytest.mark.slow

TINY = BiLstmConfig(
    embedding_dim=32, hidden=24, dense=24, dropout=0.1, min_count=1, learning_rate=5e-3
)
SETTINGS = TrainSettings(epochs=4, batch_size=32, max_len=32, seed=7, device="cpu")


@pytest.fixture(scope="module")
def member(nsmc_rows: Rows) -> BiLstmMember:
    return bilstm.train(nsmc_rows.train, nsmc_rows.dev, SETTINGS, TINY)


@pytest.fixture(scope="module")
def saved(member: BiLstmMember, tmp_path_factory: pytest.TempPathFactory) -> Path:
    manifest = Manifest(
        member="bilstm", version=new_version(), vocabulary_hash=member.vocabulary_hash
    )
    return save_version(member, tmp_path_factory.mktemp("models"), manifest)


def _copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "copy"))


def _state(member: BiLstmMember) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in member.net.state_dict().items()}


def test_beats_chance_on_held_out_rows(member: BiLstmMember, nsmc_rows: Rows) -> None:
    proba = member.predict_proba(nsmc_rows.held_out.texts)
    accuracy = float((proba.argmax(axis=1) == nsmc_rows.held_out.labels).mean())
    print(f"bilstm held-out accuracy {accuracy:.3f}")
    assert accuracy >= 0.62, accuracy  # chance is 0.5 on these balanced rows
    assert member.metrics["partial"] == 0.0
    assert member.device.type == "cpu"


def test_predictions_keep_input_order(member: BiLstmMember, nsmc_rows: Rows) -> None:
    texts = nsmc_rows.held_out.texts[:40]
    forward = member.predict_proba(texts)
    np.testing.assert_allclose(member.predict_proba(texts[::-1]), forward[::-1], atol=1e-6)
    assert member.predict_proba([]).shape == (0, 3)


def test_bad_inputs_get_normalised_probabilities(member: BiLstmMember) -> None:
    proba = member.predict_proba(BAD_INPUTS)
    assert proba.shape == (len(BAD_INPUTS), 3)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(proba[0], proba[1])


def test_save_version_round_trip_gives_identical_probabilities(
    member: BiLstmMember, saved: Path, nsmc_rows: Rows
) -> None:
    assert sorted(p.name for p in saved.iterdir()) == [
        "config.json",
        "manifest.json",
        "model.safetensors",
        "vocab.json",
    ]
    loaded = BiLstmMember.load(saved, device="cpu")
    texts = nsmc_rows.held_out.texts[:50] + BAD_INPUTS
    np.testing.assert_array_equal(loaded.predict_proba(texts), member.predict_proba(texts))
    assert loaded.config == TINY
    assert loaded.vocabulary_hash == Manifest.read(saved).vocabulary_hash


def test_partial_retrain_freezes_the_embedding_and_moves_the_rest(
    member: BiLstmMember, saved: Path, nsmc_rows: Rows
) -> None:
    before = _state(member)
    new = LabeledTexts(nsmc_rows.held_out.texts[:160], nsmc_rows.held_out.labels[:160])
    settings = replace(SETTINGS, epochs=2, init_from=saved)
    retrained = bilstm.train(new, nsmc_rows.dev, settings, replace(TINY, patience=5))
    after = _state(retrained)
    assert torch.equal(after["embedding.weight"], before["embedding.weight"])
    changed = [
        k for k in before if k != "embedding.weight" and not torch.equal(after[k], before[k])
    ]
    assert "lstm.weight_ih_l0" in changed and "out.weight" in changed
    assert not retrained.net.embedding.weight.requires_grad
    assert retrained.vocab == member.vocab
    assert retrained.metrics["partial"] == 1.0
    # The saved champion it started from is untouched.
    np.testing.assert_array_equal(
        load_file(str(saved / "model.safetensors"))["out.weight"], before["out.weight"]
    )


def test_partial_retrain_from_a_broken_version_fails_before_training(
    nsmc_rows: Rows, tmp_path: Path
) -> None:
    settings = replace(SETTINGS, init_from=tmp_path / "missing")
    with pytest.raises(ModelLoadError, match="missing"):
        bilstm.train(nsmc_rows.train, nsmc_rows.dev, settings, TINY)


def test_missing_and_truncated_weights_are_refused(saved: Path, tmp_path: Path) -> None:
    copy = _copy(saved, tmp_path)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match=r"model\.safetensors is corrupt"):
        BiLstmMember.load(copy)
    weights.unlink()
    with pytest.raises(ModelLoadError, match=r"model\.safetensors is missing"):
        BiLstmMember.load(copy)
    with pytest.raises(ModelLoadError, match="nowhere"):
        BiLstmMember.load(tmp_path / "nowhere")


def test_mismatched_vocabulary_or_architecture_is_refused(saved: Path, tmp_path: Path) -> None:
    copy = _copy(saved, tmp_path)
    Vocabulary.build([["좋/VA", "영화/NNG"]], min_count=1).save(copy)
    with pytest.raises(ModelLoadError, match="embedding rows"):
        BiLstmMember.load(copy)
    shutil.copy(saved / VOCAB_FILE, copy / VOCAB_FILE)
    payload = json.loads((copy / "config.json").read_text())
    payload["config"]["hidden"] = 16
    (copy / "config.json").write_text(json.dumps(payload))
    with pytest.raises(ModelLoadError, match=r"does not match config\.json"):
        BiLstmMember.load(copy)
    shutil.copy(saved / "config.json", copy / "config.json")
    state = load_file(str(copy / "model.safetensors"))
    del state["out.bias"]
    save_file(state, str(copy / "model.safetensors"))
    with pytest.raises(ModelLoadError, match=r"model\.safetensors does not match"):
        BiLstmMember.load(copy)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_asking_for_cuda_without_cuda_is_an_error(nsmc_rows: Rows) -> None:
    with pytest.raises(ValueError, match="CUDA is not available"):
        bilstm.train(nsmc_rows.train, nsmc_rows.dev, replace(SETTINGS, device="cuda"), TINY)


def test_same_seed_gives_the_same_model(nsmc_rows: Rows) -> None:
    small = LabeledTexts(nsmc_rows.train.texts[:96], nsmc_rows.train.labels[:96])
    dev = LabeledTexts(nsmc_rows.dev.texts[:32], nsmc_rows.dev.labels[:32])
    settings = TrainSettings(epochs=1, batch_size=32, max_len=16, seed=3, device="cpu")
    config = BiLstmConfig(embedding_dim=8, hidden=8, dense=8, min_count=1)
    texts = nsmc_rows.held_out.texts[:20]
    first = bilstm.train(small, dev, settings, config).predict_proba(texts)
    second = bilstm.train(small, dev, settings, config).predict_proba(texts)
    np.testing.assert_array_equal(first, second)
