"""The Streamlit review app under AppTest: a correction and a review land in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.review_app import app as app_module
from sentiment_assets_tests.feedback.helpers import train_ensemble, write_predictions

APP = Path(app_module.__file__ or "")


@pytest.fixture
def version(warehouse: Path) -> str:
    return train_ensemble(warehouse.parent / "models")


def test_typed_text_is_analysed_and_a_correction_lands_in_the_store(
    warehouse: Path, version: str
) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any(version in c.value for c in at.caption)
    at.sidebar.text_input(key="reviewer").input("alice")
    at.text_area(key="text").input("보스 보상 너무 좋다").run()
    assert any("label: 긍정" in m.value for m in at.markdown)
    assert any("members agreeing: lexicon" in m.value for m in at.markdown)
    assert any("lexicon words" in m.value for m in at.markdown)
    at.selectbox(key="correct_label").select("부정")
    at.button(key="save_correction").click().run()
    at.button(key="save_correction").click().run()  # a double click stores it once
    store = FeedbackStore(default_path(warehouse))
    (row,) = store.rows_after(0)
    assert (row.text, row.old_label, row.new_label) == ("보스 보상 너무 좋다", "긍정", "부정")
    assert (row.source, row.reviewer, row.model_version) == ("review-app", "alice", version)


def test_review_queue_accept_and_correct_with_progress(warehouse: Path, version: str) -> None:
    write_predictions(Lakehouse(warehouse), version, [(1, 1, "긍정", 0.9), (1, 2, "부정", 0.4)])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.sidebar.text_input(key="reviewer").input("bob").run()
    assert "reviewed 0 of 2" in at.get("progress")[0].proto.text
    assert at.selectbox(key="post").value == "1/2"
    # Each member's vote, read from the scorer's member_probabilities, and why the post is here.
    assert any(m.value == "members: lexicon **부정**" for m in at.markdown)
    assert any(c.value.startswith("why here: uncertainty") for c in at.caption)
    at.selectbox(key="queue_label").select("중립")
    at.button(key="correct").click().run()
    store = FeedbackStore(default_path(warehouse))
    (row,) = store.rows_after(0)
    assert (row.board_id, row.post_id, row.old_label, row.new_label) == (1, 2, "부정", "중립")
    at.run()
    assert "reviewed 1 of 2" in at.get("progress")[0].proto.text
    at.button(key="accept").click().run()
    assert set(store.reviews()) == {(1, 1), (1, 2)}
    assert [a["action"] for a in store.audit_trail()] == ["accept", "correct"]
