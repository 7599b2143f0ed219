"""The review queue follows the serving champion, not the newest scored version.

After a rollback the newest version in `ensemble_predictions` is a rejected challenger: ranking
its predictions (or recording reviews against them) would show people a model nobody serves.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.review_queue import QueueFilter, rank, shown_prediction
from sentiment_assets_tests.feedback.helpers import (
    NONE_REVIEWED,
    serve,
    serving_settings,
    train_ensemble,
    write_predictions,
)


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lake = Lakehouse(tmp_path / "warehouse")
    write_predictions(lake, "20261201T000000-champion", [(1, 1, "부정", 0.4), (1, 2, "긍정", 0.9)])
    # The rolled-back challenger is newer, scored post 1 differently and post 3 only.
    write_predictions(lake, "20261202T000000-rejected", [(1, 1, "긍정", 0.8), (1, 3, "중립", 0.5)])
    return lake


def _queue(lake: Lakehouse, preferred: str | None) -> tuple[str | None, list[int]]:
    with lake.session() as session:
        version, frame, _, _ = rank(
            session,
            QueueFilter(),
            NONE_REVIEWED,
            include_reviewed=False,
            preferred_version=preferred,
        )
    return version, sorted(frame["post_id"].tolist())


def test_the_champion_is_ranked_when_it_has_scored_posts(lake: Lakehouse) -> None:
    assert _queue(lake, "20261201T000000-champion") == ("20261201T000000-champion", [1, 2])


def test_without_a_scored_champion_the_newest_version_is_ranked(lake: Lakehouse) -> None:
    assert _queue(lake, None) == ("20261202T000000-rejected", [1, 3])
    assert _queue(lake, "20261203T000000-unscored") == ("20261202T000000-rejected", [1, 3])


def test_a_review_is_checked_against_the_champions_prediction(lake: Lakehouse) -> None:
    with lake.session() as session:
        shown = shown_prediction(session, 1, 1, preferred_version="20261201T000000-champion")
        newest = shown_prediction(session, 1, 1)
        only_newer = shown_prediction(session, 1, 3, preferred_version="20261201T000000-champion")
        missing = shown_prediction(session, 9, 9, preferred_version="20261201T000000-champion")
    assert shown is not None and (shown.model_version, shown.label) == (
        "20261201T000000-champion",
        "부정",
    )
    assert newest is not None and (newest.model_version, newest.label) == (
        "20261202T000000-rejected",
        "긍정",
    )
    # A post the champion never scored is still reviewable against the version that did.
    assert only_newer is not None and only_newer.model_version == "20261202T000000-rejected"
    assert missing is None


def test_the_served_queue_follows_a_new_champion_through_its_cache(tmp_path: Path) -> None:
    settings = serving_settings(tmp_path, model_check_interval_s=0.0, review_cache_s=600.0)
    lake = Lakehouse(settings.warehouse)
    first = train_ensemble(settings.models)
    write_predictions(lake, first, [(1, 1, "부정", 0.4)])
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/review-queue").json()["model_version"] == first
        time.sleep(0.01)
        second = train_ensemble(settings.models)
        write_predictions(lake, second, [(1, 1, "긍정", 0.8)])
        # Only the queue is asked: nothing else makes the server look for a new model.
        deadline = time.monotonic() + 20
        while (queue := client.get("/review-queue").json())["model_version"] != second:
            assert time.monotonic() < deadline, f"the queue stayed on {queue['model_version']}"
            time.sleep(0.1)
        assert [item["label"] for item in queue["items"]] == ["긍정"]
