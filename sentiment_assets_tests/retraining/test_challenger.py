"""`challenger_model` end to end in a temporary lakehouse: retrain, gate, consume feedback once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from sentiment_assets.defs.ensemble.assets import champion_predictions
from sentiment_assets.defs.feedback.assets import feedback
from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.feedback.sensors import feedback_sensor
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.retraining.assets import challenger_model
from sentiment_assets.defs.retraining.jobs import retraining_job
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import Manifest
from sentiment_assets.lib.registry import CHAMPION, ModelRegistry, champion_version
from sentiment_assets.lib.registry.evalset import feedback_held_out
from sentiment_assets_tests.registry.helpers import (
    refined_rows,
    seed_base_corpus,
    train_and_gate,
)

CONFIG = {"ops": {"challenger_model": {"config": {"members": ["lexicon"]}}}}


def _seed_posts(lakehouse: Lakehouse, frame: pd.DataFrame) -> None:
    """The corpus's test rows stand in for crawled posts with refined labels."""
    posts = frame.loc[frame["split"] == "test"].reset_index(drop=True)
    ids = list(range(1, len(posts) + 1))
    lakehouse.append(
        "raw_posts",
        pd.DataFrame({"board_id": 1, "post_id": ids, "title": posts["text"], "body": ""}),
    )
    lakehouse.append(
        "refined_labels",
        refined_rows(
            [
                (1, post, text, label, 1)
                for post, text, label in zip(ids, posts["text"], posts["label_name"], strict=True)
            ]
        ),
    )


def _corrections(store: FeedbackStore, count: int) -> None:
    for n in range(count):
        store.add(
            FeedbackInput(
                new_label="긍정" if n % 2 else "부정",
                reviewer="tester",
                idempotency_key=f"fix-{n}",
                text=f"보스 레이드 {'최고' if n % 2 else '최악'} {n}",
            )
        )


@pytest.fixture
def resources(lakehouse: Lakehouse, tmp_path: Path) -> dict[str, object]:
    return {
        "lakehouse": LakehouseResource(path=str(lakehouse.root)),
        "model_store": ModelStoreResource(path=str(tmp_path / "models")),
        "feedback_store": FeedbackStoreResource(path=str(tmp_path / "feedback.sqlite")),
    }


def test_challenger_retrains_incrementally_gates_and_consumes_feedback_once(
    lakehouse: Lakehouse, tmp_path: Path, resources: dict[str, object]
) -> None:
    models = tmp_path / "models"
    frame = seed_base_corpus(lakehouse, tmp_path)
    champion = train_and_gate(lakehouse, models, frame).registered
    _seed_posts(lakehouse, frame)
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    _corrections(store, 20)
    assert dg.materialize([feedback], resources=resources).success

    first = dg.materialize(
        [challenger_model, champion_predictions], resources=resources, run_config=CONFIG
    )
    assert first.success
    meta: dict[str, Any] = {
        k: v.value
        for k, v in first.asset_materializations_for_node("challenger_model")[0].metadata.items()
    }
    assert meta["retrained"] is True
    assert meta["strategies"] == {"lexicon": "incremental"}
    assert meta["training_mix"]["refined"] > 0
    assert meta["champion_before"] == champion.number
    registry = ModelRegistry(models)
    new = registry.get(int(meta["registry_version"]))
    assert new.tags["gate.status"] in ("champion", "challenger")
    assert new.tags["gate.reason"] == meta["gate_reason"]
    # Lexicon incremental: the new lexicon version continued from the champion's.
    member = models / "lexicon" / meta["member_versions"]["lexicon"]
    init_from = Manifest.read(member).config["settings"]["init_from"]
    champion_lexicon = json.loads((champion.path / "ensemble.json").read_text())["members"]
    assert Path(init_from).name == champion_lexicon["lexicon"]["version"]

    # Every correction not held out for the gate is consumed, by this run, exactly once.
    rows = store.rows_after(0)
    held = feedback_held_out([r.id for r in rows])
    assert meta["feedback_consumed"] == int((~held).sum()) > 0
    assert {r.consumed_by for r, h in zip(rows, held, strict=True) if not h} == {first.run_id}
    assert all(r.consumed_by is None for r, h in zip(rows, held, strict=True) if h)

    # The posts are scored by whoever is champion after the gate.
    serving = champion_version(models)
    assert serving is not None
    with lakehouse.session() as lake:
        versions = set(
            lake.query("select model_version from lake.ensemble_predictions")["model_version"]
        )
    assert versions == {serving.version}
    assert registry.aliases()[CHAMPION] == serving.number

    second = dg.materialize([challenger_model], resources=resources, run_config=CONFIG)
    assert second.success
    again: dict[str, Any] = {
        k: v.value
        for k, v in second.asset_materializations_for_node("challenger_model")[0].metadata.items()
    }
    assert again["feedback_consumed"] == 0
    assert again["training_mix"]["feedback"] == 0
    assert {r.consumed_by for r in store.rows_after(0) if r.consumed_by} == {first.run_id}


def test_without_anything_new_the_round_is_skipped(
    lakehouse: Lakehouse, tmp_path: Path, resources: dict[str, object]
) -> None:
    seed_base_corpus(lakehouse, tmp_path)
    result = dg.materialize([challenger_model], resources=resources, run_config=CONFIG)
    assert result.success
    meta = result.asset_materializations_for_node("challenger_model")[0].metadata
    assert meta["retrained"].value is False
    assert "nothing to retrain" in str(meta["reason"].value)


def test_feedback_sensor_launches_the_retraining_job(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite"
    _corrections(FeedbackStore(db), 3)
    context = dg.build_sensor_context(
        resources={"feedback_store": FeedbackStoreResource(path=str(db), retrain_threshold=3)}
    )
    result = feedback_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert feedback_sensor.job_name == retraining_job.name == "retraining_job"
    [request] = result.run_requests or []
    assert request.run_config == {"ops": {"feedback": {"config": {"up_to_id": 3}}}}
