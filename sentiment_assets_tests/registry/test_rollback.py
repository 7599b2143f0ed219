"""Rollback re-points the champion; `sentiment predict` and the serving holder follow it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.marts.serving import load_serving, score_for_serving, serving_model
from sentiment_assets.lib.models.ensemble import NAME
from sentiment_assets.lib.registry import CHAMPION, ModelRegistry, load_champion
from sentiment_assets.lib.registry.store import POINTER_FILE
from sentiment_assets.lib.serving.champion import ChampionHolder
from sentiment_assets_tests.registry.helpers import (
    POSITIVE_TEXT,
    seed_base_corpus,
    train_and_gate,
)


def _predict(tmp_path: Path, name: str) -> pd.DataFrame:
    source = tmp_path / f"{name}.csv"
    pd.DataFrame({"text": [POSITIVE_TEXT]}).to_csv(source, index=False)
    out = tmp_path / f"{name}_out.csv"
    assert main(["predict", str(source), "-o", str(out)]) == 0
    return pd.read_csv(out)


def test_rollback_restores_the_previous_champion_for_predict_and_serving(
    lakehouse: Lakehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"  # where the `warehouse` fixture points SENTIMENT_MODELS
    frame = seed_base_corpus(lakehouse, tmp_path)
    good = train_and_gate(lakehouse, models, frame)
    # A negative margin forces the (worse) second version through the gate.
    bad = train_and_gate(lakehouse, models, frame, flip=True, margin=-1.0)
    assert good.promoted and bad.promoted
    holder = ChampionHolder(models, load=load_champion, watch=models / NAME, check_interval_s=0)
    assert holder.model.version == bad.registered.version

    before = _predict(tmp_path, "before")
    assert before["model_version"].tolist() == [bad.registered.version]
    assert before["label"].tolist() == ["부정"]  # the flipped lexicon calls praise negative

    assert main(["rollback"]) == 0
    assert f"v{bad.registered.number}" in capsys.readouterr().out
    registry = ModelRegistry(models)
    assert registry.aliases()[CHAMPION] == good.registered.number
    assert (models / NAME / POINTER_FILE).read_text().count(good.registered.version) == 2

    after = _predict(tmp_path, "after")
    assert after["model_version"].tolist() == [good.registered.version]
    assert after["label"].tolist() == ["긍정"]
    holder.current()
    holder.wait_for_reload()
    assert holder.model.version == good.registered.version

    # The first champion has nothing before it; --to picks any registered version.
    assert main(["rollback"]) == 2
    assert "nothing earlier" in capsys.readouterr().err
    assert main(["rollback", "--to", f"v{bad.registered.number}"]) == 0
    assert registry.aliases()[CHAMPION] == bad.registered.number
    assert main(["rollback", "--to", "99"]) == 2
    assert "no version 99" in capsys.readouterr().err
    assert main(["rollback", "--list"]) == 0
    assert f"ensemble/{good.registered.version}" in capsys.readouterr().out


def test_rollback_with_an_empty_registry_says_so(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rollback"]) == 2
    assert "no champion yet" in capsys.readouterr().err


def test_history_catches_up_with_an_alias_moved_by_a_killed_promotion(tmp_path: Path) -> None:
    models = tmp_path / "models"
    registry = ModelRegistry(models)
    for version in ("20260101T000000000000Z", "20260102T000000000000Z"):
        (models / NAME / version).mkdir(parents=True)
        registry.register(version, run_id=None, tags={})
    registry.promote(1, reason="first")
    # A promotion killed after moving the alias, before recording the history.
    registry._client().set_registered_model_alias(registry.name, CHAMPION, "2")
    assert registry.history() == [1, 2]
    change = registry.rollback()
    assert change.previous is not None and change.previous.number == 2
    assert change.current.number == 1 and registry.aliases()[CHAMPION] == 1


def test_rollback_scores_what_the_restored_champion_lacks_and_makes_it_the_marts_model(
    lakehouse: Lakehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    frame = seed_base_corpus(lakehouse, tmp_path)
    texts = frame["text"].head(30).tolist()
    lakehouse.append(
        "raw_posts",
        pd.DataFrame({"board_id": 1, "post_id": range(1, 21), "title": texts[:20], "body": ""}),
    )
    good = train_and_gate(lakehouse, models, frame)
    with lakehouse.session() as lake:
        score_for_serving(lake, load_serving(models), reason="first champion")
    bad = train_and_gate(lakehouse, models, frame, flip=True, margin=-1.0)
    with lakehouse.session() as lake:
        score_for_serving(lake, load_serving(models), reason="promoted")
    # Posts crawled while the demoted version served: only it scored them.
    lakehouse.append(
        "raw_posts",
        pd.DataFrame({"board_id": 1, "post_id": range(21, 31), "title": texts[20:], "body": ""}),
    )
    with lakehouse.session() as lake:
        score_for_serving(lake, load_serving(models), reason="new posts")
        assert serving_model(lake) == bad.registered.version

    assert main(["rollback"]) == 0
    out = capsys.readouterr().out
    assert f"scored 10 posts it had not scored yet with {good.registered.version}" in out
    assert "dagster job launch -j marts_job" in out
    with lakehouse.session() as lake:
        assert serving_model(lake) == good.registered.version
        scored = lake.query(
            "select count(distinct post_id) as n from lake.ensemble_predictions "
            "where model_version = ?",
            [good.registered.version],
        )
        recorded = lake.query(
            "select model_version, registry_version from lake.serving_models order by recorded_at"
        )
    assert scored["n"].iloc[0] == 30
    assert recorded.values.tolist() == [
        [good.registered.version, good.registered.number],
        [bad.registered.version, bad.registered.number],
        [good.registered.version, good.registered.number],
    ]
