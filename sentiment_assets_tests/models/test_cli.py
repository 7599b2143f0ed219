from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.cli.tables import read_table, write_table
from sentiment_assets.lib.models.base import LABELS, versions
from sentiment_assets.lib.models.lexicon import SCORES_FILE
from sentiment_assets_tests.models.synthetic import write_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`sentiment train` run once on the synthetic corpus; yields the folder holding it all."""
    root = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(root / "corpus.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SENTIMENT_WAREHOUSE", str(root / "warehouse"))
        patch.setenv("SENTIMENT_MODELS", str(root / "models"))
        code = main(
            ["train", "--source", str(corpus), "--members", "lexicon", "--sample-size", "0"]
        )
    assert code == 0
    yield root


@pytest.fixture
def models_env(trained: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SENTIMENT_WAREHOUSE", str(trained / "warehouse"))
    monkeypatch.setenv("SENTIMENT_MODELS", str(trained / "models"))
    return trained / "models"


TEXTS = ["이번 패치 최고의 업데이트 ^^", "", "보스 레이드 최악이다 ㅡㅡ", "   ", "😀", "NA"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_predict_round_trip_keeps_rows_and_order(
    models_env: Path, tmp_path: Path, suffix: str
) -> None:
    source = pd.DataFrame({"id": range(len(TEXTS)), "body": TEXTS, "label": "given"})
    write_table(source, tmp_path / f"in{suffix}")
    out = tmp_path / f"out{suffix}"
    code = main(["predict", str(tmp_path / f"in{suffix}"), "--text-column", "body", "-o", str(out)])
    assert code == 0
    result = read_table(out)
    assert list(result["id"]) == list(range(len(TEXTS)))
    assert list(result["label_input"]) == ["given"] * len(TEXTS)  # clashing input column kept
    for column in ("p_neg", "p_neu", "p_pos", "confidence", "disagreement", "model_version"):
        assert column in result.columns
    assert {"lexicon_p_neg", "lexicon_p_neu", "lexicon_p_pos"} <= set(result.columns)
    assert list(result["status"]) == ["ok", "empty", "ok", "empty", "ok", "ok"]
    assert result.loc[0, "label"] == "긍정" and result.loc[2, "label"] == "부정"
    ok = result[result["status"] == "ok"]
    assert set(ok["label"]) <= set(LABELS)
    assert ((ok[["p_neg", "p_neu", "p_pos"]].sum(axis=1) - 1).abs() < 1e-6).all()
    assert bool(pd.Series(result.loc[result["status"] == "empty", "label"]).isna().all())
    assert result["model_version"].nunique() == 1


def test_predict_rejects_unknown_columns_and_formats(
    models_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_table(pd.DataFrame({"body": ["좋다"]}), tmp_path / "in.csv")
    assert main(["predict", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "no column 'text'" in capsys.readouterr().err
    (tmp_path / "in.xlsx").write_text("x")
    assert main(["predict", str(tmp_path / "in.xlsx"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "unsupported format" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_predict_stops_naming_a_corrupt_model_file(
    models_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_table(pd.DataFrame({"text": ["좋다"]}), tmp_path / "in.csv")
    member = versions(models_env, "lexicon")[-1]
    scores = member / SCORES_FILE
    original = scores.read_bytes()
    try:
        scores.write_bytes(original[: len(original) // 2])
        assert main(["predict", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    finally:
        scores.write_bytes(original)
    assert str(scores) in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_evaluate_reports_members_and_ensemble(
    models_env: Path, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    code = main(["evaluate", "--source", str(trained / "corpus.csv"), "--output", str(report)])
    assert code == 0
    figures = json.loads(report.read_text())
    assert set(figures) == {"lexicon", "ensemble"}
    assert figures["ensemble"]["accuracy"] > 0.6  # the synthetic cues are easy
    assert len(figures["ensemble"]["confusion"]) == 3
    assert "macro_f1" in capsys.readouterr().out
