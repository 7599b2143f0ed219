"""The review app's queue keeps reviewed posts findable, flagged, when asked to (AppTest, over
the real API)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sentiment_assets.cli.review_app import APP
from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets_tests.feedback.helpers import train_ensemble, write_predictions


@pytest.fixture
def version(warehouse: Path) -> str:
    return train_ensemble(warehouse.parent / "models")


def test_reviewed_posts_are_hidden_then_shown_with_their_flag(
    warehouse: Path, version: str, review_api: str
) -> None:
    write_predictions(Lakehouse(warehouse), version, [(1, 1, "긍정", 0.9), (1, 2, "부정", 0.4)])
    FeedbackStore(default_path(warehouse)).review(
        board_id=1,
        post_id=2,
        decision="accept",
        reviewer="dana",
        shown_label="부정",
        idempotency_key="seen-before",
    )
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "reviewed 1 of 2" in at.get("progress")[0].proto.text
    assert at.selectbox(key="post").options == ["1/1"]

    at.checkbox(key="show_reviewed").check().run()
    assert at.selectbox(key="post").options == ["1/2", "1/1"]  # still ranked by score
    (table,) = [d.value for d in at.dataframe if "score" in d.value.columns]
    flags = dict(zip(table["post_id"], table["reviewed"], strict=True))
    assert flags == {2: True, 1: False}
    assert "reviewed 1 of 2" in at.get("progress")[0].proto.text
