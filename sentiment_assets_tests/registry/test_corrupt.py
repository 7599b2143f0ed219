"""A damaged or missing champion stops predict with an error naming the file at fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.models.ensemble import ENSEMBLE_FILE, Ensemble
from sentiment_assets.lib.registry import champion_path, load_champion
from sentiment_assets_tests.registry.helpers import seed_base_corpus, train_and_gate


def test_corrupt_champion_artifacts_are_named(
    lakehouse: Lakehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    frame = seed_base_corpus(lakehouse, tmp_path)
    champion = train_and_gate(lakehouse, models, frame).registered
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["메이플 최고"]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"

    spec = champion.path / ENSEMBLE_FILE
    spec.write_text("{ not json")
    assert main(["predict", str(source), "-o", str(out)]) == 2
    assert str(spec) in capsys.readouterr().err
    assert not out.exists()

    shutil.rmtree(champion.path)
    with pytest.raises(ModelLoadError, match=str(champion.path)):
        champion_path(models)
    assert main(["predict", str(source), "-o", str(out)]) == 2
    assert "rollback" in capsys.readouterr().err


def test_corrupt_member_file_is_named(lakehouse: Lakehouse, tmp_path: Path) -> None:
    models = tmp_path / "models"
    frame = seed_base_corpus(lakehouse, tmp_path)
    champion = train_and_gate(lakehouse, models, frame).registered
    member = Ensemble.load(champion.path, models_root=models).refs["lexicon"].version
    scores = models / "lexicon" / member / "lexicon.parquet"
    scores.write_bytes(b"PAR1 truncated")
    with pytest.raises(ModelLoadError, match=str(scores)):
        load_champion(models)
