"""The Streamlit review app under AppTest, talking to a real API on 127.0.0.1.

A correction and a review go through the API under the reviewer's token and land in the store
with that reviewer; without a live token nothing can be written; a post's title and body are
shown as the characters they hold, never as Markdown or HTML.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sentiment_assets.cli.review_app import APP
from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets_tests.feedback.helpers import (
    REVIEWER,
    TOKEN,
    add_reviewer,
    train_ensemble,
    write_posts,
    write_predictions,
)

HOSTILE_TITLE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
HOSTILE_BODY = (
    "**굵게** [링크](javascript:alert(1)) ![추적](http://127.0.0.1:9/pixel.png)\n<b>본문</b>"
)


@pytest.fixture
def version(warehouse: Path) -> str:
    return train_ensemble(warehouse.parent / "models")


def _signed_in(token: str = TOKEN) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    at.sidebar.text_input(key="token").input(token).run()
    return at


def test_typed_text_is_analysed_and_a_correction_lands_in_the_store_under_the_token(
    warehouse: Path, version: str, review_api: str
) -> None:
    at = _signed_in()
    assert any(version in c.value for c in at.caption)
    assert [s.value for s in at.sidebar.success] == [f"signed in as {REVIEWER}"]
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
    assert (row.source, row.reviewer, row.model_version) == ("review-app", REVIEWER, version)
    assert [a["who"] for a in store.audit_trail()] == [REVIEWER]


def test_review_queue_accept_and_correct_with_progress(
    warehouse: Path, version: str, review_api: str
) -> None:
    write_predictions(Lakehouse(warehouse), version, [(1, 1, "긍정", 0.9), (1, 2, "부정", 0.4)])
    at = _signed_in()
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
    assert (row.reviewer, row.source, row.model_version) == (REVIEWER, "review-app", version)
    at.run()
    assert "reviewed 1 of 2" in at.get("progress")[0].proto.text
    at.button(key="accept").click().run()
    assert set(store.reviews()) == {(1, 1), (1, 2)}
    assert [a["action"] for a in store.audit_trail()] == ["accept", "correct"]
    assert {a["who"] for a in store.audit_trail()} == {REVIEWER}
    (audit,) = [d.value for d in at.dataframe if "who" in d.value.columns]
    assert list(audit["action"]) == ["accept", "correct"]


@pytest.mark.parametrize("credential", ["none", "unknown", "revoked"])
def test_without_a_live_token_the_app_writes_nothing(
    warehouse: Path, version: str, review_api: str, credential: str
) -> None:
    write_predictions(Lakehouse(warehouse), version, [(1, 1, "긍정", 0.9)])
    db = default_path(warehouse)
    token = {"none": "", "unknown": "msr_" + "u" * 43, "revoked": add_reviewer(db, "rita")}
    if credential == "revoked":
        FeedbackStore(db).revoke_reviewer("rita")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if token[credential]:
        at.sidebar.text_input(key="token").input(token[credential]).run()
        (error,) = at.sidebar.error
        assert ("revoked" if credential == "revoked" else "unknown token") in error.value
    at.text_area(key="text").input("보스 보상 너무 좋다").run()
    assert at.button(key="save_correction").disabled
    assert at.button(key="accept").disabled and at.button(key="correct").disabled
    assert FeedbackStore(db).count() == 0


def test_post_titles_and_bodies_are_shown_as_text_never_as_markdown_or_html(
    warehouse: Path, version: str, review_api: str
) -> None:
    lake = Lakehouse(warehouse)
    write_predictions(lake, version, [(1, 1, "부정", 0.4)])
    write_posts(
        lake, [(1, 1, "히어로", "2025-01-01")], texts={(1, 1): (HOSTILE_TITLE, HOSTILE_BODY)}
    )
    at = _signed_in()
    assert at.selectbox(key="post").value == "1/1"
    shown = [t.value for t in at.text]
    assert HOSTILE_TITLE in shown and HOSTILE_BODY in shown
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    rendered += [e.value for e in at.error] + [w.value for w in at.warning]
    for fragment in ("<script", "onerror", "javascript:", "![", "<b>"):
        assert not any(fragment in r for r in rendered), fragment
