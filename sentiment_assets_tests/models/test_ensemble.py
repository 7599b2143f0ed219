from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax

from sentiment_assets.lib.corpus.labels import example_weights
from sentiment_assets.lib.models.base import (
    LABELS,
    LabeledTexts,
    Manifest,
    ModelLoadError,
    save_version,
)
from sentiment_assets.lib.models.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    log_loss,
)
from sentiment_assets.lib.models.ensemble import (
    ENSEMBLE_FILE,
    STATUS_EMPTY,
    STATUS_OK,
    Ensemble,
    MemberRef,
    fit_ensemble,
    load_current,
)
from sentiment_assets.lib.models.evaluation import evaluate_prediction
from sentiment_assets.lib.models.lexicon import SCORES_FILE, Lexicon
from sentiment_assets_tests.models.conftest import NsmcSample


def test_temperature_recovers_a_known_overconfidence() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 3)) * 2
    labels = np.array([rng.choice(3, p=p) for p in softmax(logits, axis=1)])
    overconfident = softmax(logits * 3, axis=1)
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(3.0, rel=0.1)
    fixed = apply_temperature(overconfident, temperature)
    assert expected_calibration_error(fixed, labels) < expected_calibration_error(
        overconfident, labels
    )
    assert (fixed.argmax(1) == overconfident.argmax(1)).all()


def test_ece_is_zero_for_perfect_confident_predictions() -> None:
    probs = np.eye(3)[[0, 1, 2, 2]]
    assert expected_calibration_error(probs, np.array([0, 1, 2, 2])) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.array([1, 1, 2, 2])) == pytest.approx(0.25)


def _two_real_members(sample: NsmcSample, strong: Lexicon) -> dict[str, Lexicon]:
    weak_rows = 150
    weak = Lexicon.fit(
        LabeledTexts(
            texts=sample.train.texts[:weak_rows],
            labels=sample.train.labels[:weak_rows],
            weights=example_weights(sample.train.labels[:weak_rows]),
        )
    )
    # Left unscaled on purpose: raw summed log-odds are over-confident.
    return {"strong": strong, "weak": weak}


def test_weights_and_temperatures_fitted_on_real_member_outputs(
    nsmc_sample: NsmcSample, nsmc_lexicon: Lexicon
) -> None:
    members = _two_real_members(nsmc_sample, nsmc_lexicon)
    dev = nsmc_sample.dev
    dev_probs = {n: m.predict_proba(dev.texts) for n, m in members.items()}
    fit = fit_ensemble(
        dev_probs,
        dev.labels,
        initial_weights={"strong": 0.5, "weak": 0.5},
        vocabulary_hashes={n: m.vocabulary_hash() for n, m in members.items()},
        member_versions={"strong": "v1", "weak": "v1"},
        sample_weights=dev.weights,
    )
    assert fit.refs["strong"].weight > fit.refs["weak"].weight
    assert sum(r.weight for r in fit.refs.values()) == pytest.approx(1.0)
    assert fit.refs["weak"].temperature > 1.0  # the unscaled member gets softened
    assert fit.metrics["dev_log_loss_after"] < fit.metrics["dev_log_loss_before"]
    ensemble = Ensemble(members, fit.refs, fit.temperature)  # type: ignore[arg-type]
    test = nsmc_sample.test
    results = evaluate_prediction(ensemble.predict(test["text"].tolist()), test)
    assert results["ensemble"]["accuracy"] >= results["weak"]["accuracy"]
    assert results["ensemble"]["ece"] < results["weak"]["ece"] + 1e-9
    assert set(results) == {"strong", "weak", "ensemble"}


def _saved_ensemble(root: Path, lexicon: Lexicon) -> Path:
    manifest = Manifest(member="lexicon", version="v1", vocabulary_hash=lexicon.vocabulary_hash())
    save_version(lexicon, root, manifest)
    refs = {"lexicon": MemberRef("v1", lexicon.vocabulary_hash(), 1.0, 1.0)}
    ensemble = Ensemble({"lexicon": lexicon}, refs, 1.2, version="e1")
    return save_version(ensemble, root, Manifest(member="ensemble", version="e1"))


@pytest.fixture
def small_lexicon() -> Lexicon:
    texts = ["정말 좋다 ^^", "최고 재밌다", "너무 싫다 ㅡㅡ", "최악 지루", "공지 일정", "점검 안내"]
    return Lexicon.fit(LabeledTexts(texts=texts * 2, labels=np.array([2, 2, 0, 0, 1, 1] * 2)))


def test_saved_ensemble_loads_and_predicts_the_same(tmp_path: Path, small_lexicon: Lexicon) -> None:
    _saved_ensemble(tmp_path, small_lexicon)
    loaded = load_current(tmp_path)
    assert loaded.version == "e1" and loaded.refs["lexicon"].version == "v1"
    texts = ["정말 좋다", "최악"]
    expected = apply_temperature(small_lexicon.predict_proba(texts), 1.2)
    assert np.allclose(loaded.predict(texts).proba, expected)


def test_bad_input_is_handled_consistently(tmp_path: Path, small_lexicon: Lexicon) -> None:
    _saved_ensemble(tmp_path, small_lexicon)
    ensemble = load_current(tmp_path)
    long = "정말 좋다 " * 2000  # 10,000 characters
    texts = ["", "   \n", None, "😀😀", long, "This is an English sentence", "좋다"]
    prediction = ensemble.predict(texts)
    assert prediction.status == [STATUS_EMPTY] * 3 + [STATUS_OK] * 4
    assert prediction.labels[:3] == [None, None, None]
    assert np.isnan(prediction.proba[:3]).all()
    ok = prediction.proba[3:]
    assert np.allclose(ok.sum(axis=1), 1.0) and set(prediction.labels[3:]) <= set(LABELS)
    again = ensemble.predict(texts)
    np.testing.assert_array_equal(prediction.proba, again.proba)
    head = ensemble.predict([long[:512]]).proba
    assert np.allclose(prediction.proba[4], head[0])  # long texts are cut to their head


def test_missing_ensemble_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no trained ensemble"):
        load_current(tmp_path)


def _damage_member_file(root: Path) -> str:
    (root / "lexicon" / "v1" / SCORES_FILE).write_bytes(b"\x00garbage")
    return SCORES_FILE


def _remove_member(root: Path) -> str:
    target = root / "lexicon" / "v1"
    for path in target.iterdir():
        path.unlink()
    target.rmdir()
    return "lexicon/v1"


def _mismatch_vocabulary(root: Path) -> str:
    path = root / "lexicon" / "v1" / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "vocabulary_hash": "other"}))
    return "manifest.json"


def _corrupt_ensemble_file(root: Path) -> str:
    (root / "ensemble" / "e1" / ENSEMBLE_FILE).write_text("{ not json")
    return ENSEMBLE_FILE


def _unknown_member(root: Path) -> str:
    path = root / "ensemble" / "e1" / ENSEMBLE_FILE
    spec = json.loads(path.read_text())
    spec["members"]["nonexistent"] = spec["members"]["lexicon"]
    path.write_text(json.dumps(spec))
    return ENSEMBLE_FILE


@pytest.mark.parametrize(
    "damage",
    [
        _damage_member_file,
        _remove_member,
        _mismatch_vocabulary,
        _corrupt_ensemble_file,
        _unknown_member,
    ],
)
def test_broken_artifacts_stop_with_an_error_naming_the_file(
    tmp_path: Path, small_lexicon: Lexicon, damage
) -> None:
    _saved_ensemble(tmp_path, small_lexicon)
    named = damage(tmp_path)
    with pytest.raises(ModelLoadError, match=named):
        load_current(tmp_path)


def test_log_loss_weights_examples() -> None:
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])
    assert log_loss(probs, np.array([0, 0]), np.array([1.0, 0.0])) == pytest.approx(-np.log(0.9))
