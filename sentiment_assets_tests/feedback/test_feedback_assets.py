"""The `feedback` asset into a temporary lakehouse, and `feedback_sensor`'s batches."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from sentiment_assets.defs.feedback.assets import feedback
from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.feedback.sensors import feedback_sensor
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse


def _fill(store: FeedbackStore, first: int, count: int) -> None:
    for n in range(first, first + count):
        store.add(
            FeedbackInput(
                new_label="부정" if n % 2 else "긍정",
                reviewer="alice",
                idempotency_key=f"k{n}",
                text=f"문장 {n}" if n % 3 else None,
                board_id=None if n % 3 else 7,
                post_id=None if n % 3 else n,
                source="review-app" if n % 5 == 0 else "api",
            )
        )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "feedback.sqlite"


def _resources(warehouse: Path, db: Path, threshold: int = 100) -> dict[str, object]:
    return {
        "lakehouse": LakehouseResource(path=str(warehouse)),
        "feedback_store": FeedbackStoreResource(path=str(db), retrain_threshold=threshold),
    }


def test_feedback_asset_appends_new_rows_once(lakehouse: Lakehouse, db: Path) -> None:
    store = FeedbackStore(db)
    _fill(store, 0, 12)
    resources = _resources(lakehouse.root, db)
    first = dg.materialize(
        [feedback],
        resources=resources,
        run_config={"ops": {"feedback": {"config": {"up_to_id": 10}}}},
    )
    assert first.success
    meta = first.get_asset_materialization_events()[0].materialization.metadata
    assert meta["rows_written"].value == 10 and meta["max_feedback_id"].value == 10
    assert dg.materialize([feedback], resources=resources).success
    assert dg.materialize([feedback], resources=resources).success
    with lakehouse.session() as lake:
        table = lake.read_table("feedback").sort_values("feedback_id")
    assert table["feedback_id"].tolist() == list(range(1, 13))
    post_row = table[table["feedback_id"] == 1].iloc[0]
    assert (post_row["board_id"], post_row["post_id"], post_row["text"]) == (7, 0, None)
    assert set(table["source"]) == {"api", "review-app"}
    assert str(table["created_at"].dtype).startswith("datetime64")


def test_feedback_asset_with_an_empty_store_writes_nothing(lakehouse: Lakehouse, db: Path) -> None:
    FeedbackStore(db)
    result = dg.materialize([feedback], resources=_resources(lakehouse.root, db))
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["rows_written"].value == 0
    with lakehouse.session() as lake:
        assert not lake.table_exists("feedback")


def _tick(db: Path, cursor: str | None, threshold: int = 100) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={
            "feedback_store": FeedbackStoreResource(path=str(db), retrain_threshold=threshold)
        },
    )
    return feedback_sensor(context)  # type: ignore[return-value]


def test_sensor_skips_at_99_and_launches_once_at_100(db: Path) -> None:
    assert isinstance(_tick(db, None), dg.SkipReason)  # no store yet
    store = FeedbackStore(db)
    _fill(store, 0, 99)
    skipped = _tick(db, None)
    assert isinstance(skipped, dg.SkipReason) and "99" in str(skipped.skip_message)
    _fill(store, 99, 1)
    launched = _tick(db, None)
    assert isinstance(launched, dg.SensorResult)
    (request,) = launched.run_requests or []
    assert request.run_key == "feedback-100"
    assert request.run_config["ops"]["feedback"]["config"]["up_to_id"] == 100
    assert json.loads(launched.cursor or "") == {"max_feedback_id": 100}
    # The same data again: from the new cursor nothing is due; without it, the same run key.
    assert isinstance(_tick(db, launched.cursor), dg.SkipReason)
    again = _tick(db, None)
    assert isinstance(again, dg.SensorResult)
    assert [r.run_key for r in again.run_requests or []] == ["feedback-100"]
    _fill(store, 100, 99)
    assert isinstance(_tick(db, launched.cursor), dg.SkipReason)
    _fill(store, 199, 1)
    second = _tick(db, launched.cursor)
    assert isinstance(second, dg.SensorResult)
    assert [r.run_key for r in second.run_requests or []] == ["feedback-200"]


def test_consumed_rows_do_not_count_and_threshold_is_configurable(db: Path) -> None:
    store = FeedbackStore(db)
    _fill(store, 0, 5)
    store.mark_consumed([1, 2], "run-1")
    assert isinstance(_tick(db, None, threshold=4), dg.SkipReason)
    _fill(store, 5, 1)
    launched = _tick(db, None, threshold=4)
    assert isinstance(launched, dg.SensorResult)
    assert [r.run_key for r in launched.run_requests or []] == ["feedback-6"]


def test_sensor_targets_the_retraining_job() -> None:
    assert feedback_sensor.job_name == "retraining_job"


def test_accepts_and_corrections_both_count_toward_the_threshold(db: Path) -> None:
    store = FeedbackStore(db)
    for n in range(100):
        store.review(
            board_id=1,
            post_id=n,
            decision="accept" if n % 2 else "correct",
            reviewer="alice",
            shown_label="중립",
            corrected_label=None if n % 2 else "부정",
            idempotency_key=f"review-{n}",
        )
        if n == 98:
            assert isinstance(_tick(db, None), dg.SkipReason)
    launched = _tick(db, None)
    assert isinstance(launched, dg.SensorResult)
    assert [r.tags["feedback/rows"] for r in launched.run_requests or []] == ["100"]
