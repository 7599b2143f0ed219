from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sentiment_assets.lib.models.base import LabeledTexts, ModelLoadError, TrainSettings
from sentiment_assets.lib.models.evaluation import classification_metrics, nsmc_binary_accuracy
from sentiment_assets.lib.models.lexicon import CONFIG_FILE, SCORES_FILE, Lexicon, train
from sentiment_assets_tests.models.conftest import NsmcSample


def test_lexicon_beats_chance_clearly_on_real_reviews(
    nsmc_sample: NsmcSample, nsmc_lexicon: Lexicon
) -> None:
    test = nsmc_sample.test
    proba = nsmc_lexicon.predict_proba(test["text"].tolist())
    figures = classification_metrics(proba, test["label"].to_numpy())
    # Chance is 1/3 for three classes and 1/2 for the balanced binary view.
    assert figures["macro_f1"] > 0.48, figures
    binary = test[test["nsmc_binary"].notna()]
    rows = binary.index.to_numpy()
    accuracy = nsmc_binary_accuracy(proba[rows], np.asarray(binary["nsmc_binary"], dtype=int))
    assert accuracy > 0.72


def test_scale_fitted_on_dev_lowers_dev_log_loss(
    nsmc_sample: NsmcSample, nsmc_lexicon: Lexicon
) -> None:
    dev = nsmc_sample.dev
    raw = Lexicon(scores=nsmc_lexicon.scores, prior=nsmc_lexicon.prior, scale=1.0)
    before = classification_metrics(raw.predict_proba(dev.texts), dev.labels)["log_loss"]
    after = classification_metrics(nsmc_lexicon.predict_proba(dev.texts), dev.labels)["log_loss"]
    assert nsmc_lexicon.scale != 1.0 and after < before


def test_explain_lists_the_words_that_drove_the_prediction(nsmc_lexicon: Lexicon) -> None:
    explained = nsmc_lexicon.explain("정말 최고의 영화 강추합니다")
    assert explained["label"] == "긍정"
    words = explained["words"]
    assert words and words[0]["contribution"] >= words[-1]["contribution"]
    assert any(w["word"].startswith("최고/") and w["polarity"] > 0 for w in words)
    negative = nsmc_lexicon.explain("최악의 쓰레기 영화")
    assert negative["label"] == "부정"
    assert negative["words"][0]["polarity"] < 0


def test_save_and_load_round_trip(tmp_path: Path, nsmc_lexicon: Lexicon) -> None:
    nsmc_lexicon.save(tmp_path)
    loaded = Lexicon.load(tmp_path)
    texts = ["재밌다 ^^", "지루함", "", "hello"]
    assert np.allclose(loaded.predict_proba(texts), nsmc_lexicon.predict_proba(texts))
    assert loaded.vocabulary_hash() == nsmc_lexicon.vocabulary_hash()


def _tiny(texts: list[str], labels: list[int]) -> LabeledTexts:
    return LabeledTexts(texts=texts, labels=np.array(labels))


def test_incremental_update_blends_old_and_new_scores() -> None:
    old = Lexicon.fit(_tiny(["좋다 최고", "좋다 최고", "나쁘다 최악", "나쁘다 최악"], [2, 2, 0, 0]))
    new_data = _tiny(["좋다 신규어", "좋다 신규어", "나쁘다 최악", "나쁘다 최악"], [2, 2, 0, 0])
    fresh = Lexicon.fit(new_data)
    updated = old.updated(new_data)
    token = "좋/VA"
    expected = 0.7 * old.scores.loc[token, "s_pos"] + 0.3 * fresh.scores.loc[token, "s_pos"]
    assert updated.scores.loc[token, "s_pos"] == pytest.approx(expected)
    assert "신규어/NNG" in updated.scores.index and "신규어/NNG" not in old.scores.index
    assert "최고/NNG" in updated.scores.index  # words absent from the new data are kept
    assert updated.last_update is not None and updated.last_update.added >= 1


def test_train_continues_from_a_saved_version(tmp_path: Path) -> None:
    data = _tiny(["좋다 최고", "좋다 최고", "나쁘다 최악", "나쁘다 최악"], [2, 2, 0, 0])
    Lexicon.fit(data).save(tmp_path)
    continued = train(data, data, TrainSettings(init_from=tmp_path))
    assert continued.last_update is not None
    assert continued.predict_proba(["최고"]).argmax() == 2


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda d: (d / SCORES_FILE).write_bytes(b"not parquet"), SCORES_FILE),
        (lambda d: (d / SCORES_FILE).unlink(), SCORES_FILE),
        (lambda d: (d / CONFIG_FILE).write_text("{"), CONFIG_FILE),
        (
            lambda d: (d / CONFIG_FILE).write_text(
                json.dumps({**json.loads((d / CONFIG_FILE).read_text()), "labels": ["a", "b"]})
            ),
            CONFIG_FILE,
        ),
        (
            lambda d: (d / CONFIG_FILE).write_text(
                json.dumps({**json.loads((d / CONFIG_FILE).read_text()), "size": 1})
            ),
            SCORES_FILE,
        ),
    ],
)
def test_damaged_artifacts_raise_naming_the_file(tmp_path: Path, damage, named: str) -> None:
    Lexicon.fit(_tiny(["좋다", "좋다", "싫다", "싫다"], [2, 2, 0, 0])).save(tmp_path)
    damage(tmp_path)
    with pytest.raises(ModelLoadError, match=named):
        Lexicon.load(tmp_path)
