from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sentiment_assets.lib.models import lstm
from sentiment_assets.lib.models.base import (
    LabeledTexts,
    Manifest,
    ModelLoadError,
    TrainSettings,
    new_version,
    save_version,
)
from sentiment_assets.lib.models.lstm import LstmConfig, LstmMember
from sentiment_assets.lib.models.vocab import VOCAB_FILE, Vocabulary
from sentiment_assets_tests.recurrent.conftest import BAD_INPUTS, Rows

pytestmark = pytest.mark.slow

TINY = LstmConfig(embedding_dim=32, hidden=32, min_count=1, learning_rate=5e-3)
SETTINGS = TrainSettings(epochs=3, batch_size=32, max_len=32, seed=7)


@pytest.fixture(scope="module")
def member(nsmc_rows: Rows) -> LstmMember:
    return lstm.train(nsmc_rows.train, nsmc_rows.dev, SETTINGS, TINY)


@pytest.fixture(scope="module")
def saved(member: LstmMember, tmp_path_factory: pytest.TempPathFactory) -> Path:
    manifest = Manifest(
        member="lstm", version=new_version(), vocabulary_hash=member.vocabulary_hash
    )
    return save_version(member, tmp_path_factory.mktemp("models"), manifest)


def _copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "copy"))


def test_beats_chance_on_held_out_rows(member: LstmMember, nsmc_rows: Rows) -> None:
    proba = member.predict_proba(nsmc_rows.held_out.texts)
    accuracy = float((proba.argmax(axis=1) == nsmc_rows.held_out.labels).mean())
    print(f"lstm held-out accuracy {accuracy:.3f}")
    assert accuracy >= 0.62, accuracy  # chance is 0.5 on these balanced rows
    assert member.metrics["dev_accuracy"] >= 0.6
    assert 1 <= member.metrics["epochs"] <= SETTINGS.epochs


def test_predictions_keep_input_order(member: LstmMember, nsmc_rows: Rows) -> None:
    texts = nsmc_rows.held_out.texts[:40]
    forward = member.predict_proba(texts)
    np.testing.assert_allclose(member.predict_proba(texts[::-1]), forward[::-1], atol=1e-6)
    assert member.predict_proba([]).shape == (0, 3)


def test_bad_inputs_get_normalised_probabilities(member: LstmMember) -> None:
    proba = member.predict_proba(BAD_INPUTS)
    assert proba.shape == (len(BAD_INPUTS), 3)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # Nothing recognisable encodes as one UNK: empty and whitespace share one defined answer.
    np.testing.assert_allclose(proba[0], proba[1])


def test_save_version_round_trip_gives_identical_probabilities(
    member: LstmMember, saved: Path, nsmc_rows: Rows
) -> None:
    assert saved.parent.name == "lstm"
    assert sorted(p.name for p in saved.iterdir()) == [
        "config.json",
        "manifest.json",
        "model.keras",
        "vocab.json",
    ]
    assert Manifest.read(saved).vocabulary_hash == member.vocabulary_hash
    loaded = LstmMember.load(saved)
    texts = nsmc_rows.held_out.texts[:50] + BAD_INPUTS
    np.testing.assert_array_equal(loaded.predict_proba(texts), member.predict_proba(texts))
    assert loaded.metrics == member.metrics
    assert loaded.max_len == SETTINGS.max_len * 2  # syllables: two per morpheme step
    assert loaded.config.unit == "syllable"


def test_a_member_saved_before_units_existed_reads_morphemes(
    member: LstmMember, saved: Path, tmp_path: Path
) -> None:
    copy = _copy(saved, tmp_path)
    payload = json.loads((copy / "config.json").read_text())
    del payload["config"]["unit"]
    (copy / "config.json").write_text(json.dumps(payload))
    assert LstmMember.load(copy).config.unit == "morpheme"


def test_morpheme_unit_trains_and_round_trips(nsmc_rows: Rows, tmp_path: Path) -> None:
    member = lstm.train(nsmc_rows.train, nsmc_rows.dev, SETTINGS, replace(TINY, unit="morpheme"))
    assert member.max_len == 32 and all("/" in t for t in member.vocab.tokens[2:])
    proba = member.predict_proba(nsmc_rows.held_out.texts)
    accuracy = float((proba.argmax(axis=1) == nsmc_rows.held_out.labels).mean())
    assert accuracy >= 0.62, accuracy
    member.save(tmp_path)
    np.testing.assert_array_equal(
        LstmMember.load(tmp_path).predict_proba(BAD_INPUTS), member.predict_proba(BAD_INPUTS)
    )


def test_missing_directory_and_files_name_what_is_missing(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="nowhere"):
        LstmMember.load(tmp_path / "nowhere")
    copy = _copy(saved, tmp_path)
    (copy / "model.keras").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.keras is missing"):
        LstmMember.load(copy)
    shutil.copy(saved / "model.keras", copy / "model.keras")
    (copy / VOCAB_FILE).unlink()
    with pytest.raises(ModelLoadError, match=r"vocab\.json"):
        LstmMember.load(copy)


def test_truncated_weights_are_refused(saved: Path, tmp_path: Path) -> None:
    copy = _copy(saved, tmp_path)
    weights = copy / "model.keras"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match=r"model\.keras is corrupt"):
        LstmMember.load(copy)


def test_vocabulary_that_does_not_match_the_weights_is_refused(saved: Path, tmp_path: Path) -> None:
    copy = _copy(saved, tmp_path)
    Vocabulary.build([["좋/VA", "영화/NNG"]], min_count=1).save(copy)
    with pytest.raises(ModelLoadError, match="embedding rows"):
        LstmMember.load(copy)


def test_config_of_another_member_is_refused(saved: Path, tmp_path: Path) -> None:
    copy = _copy(saved, tmp_path)
    payload = json.loads((copy / "config.json").read_text())
    payload["member"] = "bilstm"
    (copy / "config.json").write_text(json.dumps(payload))
    with pytest.raises(ModelLoadError, match=r"config\.json does not describe a 'lstm'"):
        LstmMember.load(copy)


def test_training_refuses_an_empty_dev_set(nsmc_rows: Rows) -> None:
    empty = LabeledTexts([], np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="dev set is empty"):
        lstm.train(nsmc_rows.train, empty, SETTINGS, TINY)


def test_same_seed_gives_the_same_model(nsmc_rows: Rows) -> None:
    small = LabeledTexts(nsmc_rows.train.texts[:96], nsmc_rows.train.labels[:96])
    settings = TrainSettings(epochs=1, batch_size=32, max_len=16, seed=3)
    config = LstmConfig(embedding_dim=8, hidden=8, min_count=1)
    texts = nsmc_rows.held_out.texts[:20]
    dev = LabeledTexts(nsmc_rows.dev.texts[:32], nsmc_rows.dev.labels[:32])
    first = lstm.train(small, dev, settings, config).predict_proba(texts)
    second = lstm.train(small, dev, settings, config).predict_proba(texts)
    np.testing.assert_allclose(first, second, atol=1e-6)
