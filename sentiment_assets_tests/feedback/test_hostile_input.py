"""Hostile input at the API: each gets a 4xx with a message (never a 500), and loses nothing.

Malformed bodies (deep nesting, bytes that are not UTF-8, unpaired surrogates, NaN, ids past
BIGINT, bodies that are not objects), labels outside the set, control and bidirectional
characters, zero-width and blank characters, mixed scripts and 10,000-character texts are sent
to a real uvicorn server on 127.0.0.1. A refused write leaves the store as it was; an accepted
one stores exactly what was sent; the server keeps answering afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.schemas import MAX_TEXT_CHARS
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets_tests.feedback.helpers import (
    TOKEN,
    bearer,
    serve,
    serving_settings,
    train_ensemble,
    write_posts,
    write_predictions,
)

AUTH = bearer(TOKEN) | {"content-type": "application/json"}
LONG = ("보스 보상 너무 좋다 이번 패치 진짜 재밌다 " * 500)[:9_999] + "!"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServingSettings]]:
    root = tmp_path_factory.mktemp("hostile")
    settings = serving_settings(
        root, max_body_bytes=262_144, model_check_interval_s=60.0, review_cache_s=0.0
    )
    version = train_ensemble(settings.models)
    lake = Lakehouse(settings.warehouse)
    write_predictions(lake, version, [(1, 1, "긍정", 0.9)])
    write_posts(lake, [(1, 1, "히어로", "2025-01-01")])
    with serve(create_app(settings)) as url:
        yield url, settings


@pytest.fixture
def http(served: tuple[str, ServingSettings]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=60) as client:
        yield client


@pytest.fixture
def store(served: tuple[str, ServingSettings]) -> FeedbackStore:
    return FeedbackStore(served[1].feedback_db)


def _state(store: FeedbackStore) -> tuple[object, ...]:
    return (store.rows_after(0), store.reviews(), store.audit_trail(limit=1_000_000))


def _feedback(key: str, **fields: Any) -> dict[str, Any]:
    return {"text": "보스 보상 좋다", "new_label": "긍정", "idempotency_key": key} | fields


def _review(key: str, **fields: Any) -> dict[str, Any]:
    return {"board_id": 1, "post_id": 1, "decision": "accept", "idempotency_key": key} | fields


def _raw(obj: dict[str, Any]) -> bytes:
    # json.dumps writes an unpaired surrogate as its \ud800 escape and NaN as a bare word: both
    # are what a hostile client sends, and both are what Python's parser on the server takes.
    return json.dumps(obj).encode()


MALFORMED: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("/feedback", "nested 100,000 deep", b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", {}),
    ("/feedback", "not UTF-8", b'{"text": "\xff\xfe", "new_label": "\xea\xb8"}', {}),
    ("/feedback", "unpaired surrogate", _raw(_feedback("s", text="좋다 \ud800")), {}),
    ("/feedback", "NaN", _raw(_feedback("n", board_id=float("nan"), post_id=1)), {}),
    ("/feedback", "id past BIGINT", _raw(_feedback("b", board_id=2**63, post_id=1)), {}),
    ("/feedback", "id far past BIGINT", _raw(_feedback("b2", board_id=1, post_id=10**30)), {}),
    ("/feedback", "an array", b"[1, 2]", {}),
    ("/feedback", "null", b"null", {}),
    ("/feedback", "empty", b"", {}),
    ("/feedback", "not JSON at all", b"text=hi&new_label=x", {}),
    (
        "/feedback",
        "form-encoded",
        b"text=hi",
        {"content-type": "application/x-www-form-urlencoded"},
    ),
    ("/review", "unpaired surrogate", _raw(_review("s", comment="\udfff")), {}),
    ("/review", "NaN", _raw(_review("n", post_id=float("nan"))), {}),
    ("/review", "id past BIGINT", _raw(_review("b", board_id=2**63)), {}),
    ("/review", "a string", b'"accept"', {}),
    ("/predict", "unpaired surrogate", _raw({"text": "\ud800"}), {}),
    ("/predict", "NaN", _raw({"texts": [float("nan")]}), {}),
    ("/predict", "nested 100,000 deep", b'{"texts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", {}),
]


@pytest.mark.parametrize(
    ("path", "case", "body", "headers"), MALFORMED, ids=[f"{m[0]} {m[1]}" for m in MALFORMED]
)
def test_malformed_bodies_get_a_4xx_with_a_message_and_write_nothing(
    http: httpx.Client,
    store: FeedbackStore,
    path: str,
    case: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    before = _state(store)
    response = http.post(path, content=body, headers=AUTH | headers)
    assert response.status_code in (400, 422), (case, response.status_code, response.text)
    assert response.json()["detail"], case
    assert _state(store) == before
    assert http.get("/health").status_code == 200


@pytest.mark.parametrize("label", ["positive", "긍정 ", "POSITIVE", "", None, 1, ["긍정"], "😀"])
def test_labels_outside_the_set_are_422_on_both_write_endpoints(
    http: httpx.Client, store: FeedbackStore, label: object
) -> None:
    before = _state(store)
    wrote = http.post("/feedback", content=_raw(_feedback("lab", new_label=label)), headers=AUTH)
    decided = http.post(
        "/review",
        content=_raw(_review("lab", decision="correct", corrected_label=label)),
        headers=AUTH,
    )
    for response, field in ((wrote, "new_label"), (decided, "corrected_label")):
        assert response.status_code == 422, response.text
        error = response.json()["detail"][0]
        assert field in error["loc"] or field in error["msg"], error
    assert _state(store) == before


@pytest.mark.parametrize(
    ("text", "code_point"),
    [
        ("좋다\x00", "U+0000"),
        ("좋\x07다", "U+0007"),
        ("\x1b[31m좋다\x1b[0m", "U+001B"),
        ("좋다\x7f", "U+007F"),
        ("좋\x85다", "U+0085"),
        ("좋다 \u202e다좋", "U+202E"),
        ("\u2066좋다\u2069", "U+2066"),
    ],
)
def test_control_and_bidirectional_characters_are_refused_by_position(
    http: httpx.Client, store: FeedbackStore, text: str, code_point: str
) -> None:
    before = _state(store)
    answers = [
        http.post("/feedback", content=_raw(_feedback("ctl", text=text)), headers=AUTH),
        http.post("/feedback", content=_raw(_feedback("ctl", comment=text)), headers=AUTH),
        http.post("/review", content=_raw(_review("ctl", comment=text)), headers=AUTH),
        http.post("/predict", content=_raw({"texts": ["좋다", text]}), headers=AUTH),
    ]
    for response in answers:
        assert response.status_code == 422, response.text
        message = response.json()["detail"][0]["msg"]
        assert code_point in message and "position" in message
    assert _state(store) == before


def test_tabs_and_line_breaks_are_kept(http: httpx.Client, store: FeedbackStore) -> None:
    text = "첫 줄\n둘째 줄\r\n\t들여쓴 줄 좋다"
    stored = http.post("/feedback", json=_feedback("lines", text=text), headers=AUTH)
    assert stored.status_code == 201, stored.text
    assert store.get(stored.json()["id"]).text == text  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", "\u3164", " \u3164 "])
def test_a_text_of_only_invisible_characters_is_refused(
    http: httpx.Client, store: FeedbackStore, text: str
) -> None:
    before = _state(store)
    for path, body in (("/feedback", _feedback("zw", text=text)), ("/predict", {"text": text})):
        response = http.post(path, json=body, headers=AUTH)
        assert response.status_code == 422, response.text
        assert "no visible character" in response.json()["detail"][0]["msg"]
    assert _state(store) == before


def test_zero_width_characters_inside_a_text_are_stored_and_do_not_change_the_prediction(
    http: httpx.Client, store: FeedbackStore
) -> None:
    plain = "보스 보상 너무 좋다"
    hidden = "보스\u200b보상 너무 좋\u200b다\u2060"
    answer = http.post("/predict", json={"texts": [plain, hidden]}).json()["predictions"]
    assert answer[0]["label"] == answer[1]["label"] == "긍정"
    assert answer[1]["probabilities"] == pytest.approx(answer[0]["probabilities"])
    assert answer[1]["text"] == hidden
    stored = http.post("/feedback", json=_feedback("zw-inside", text=hidden), headers=AUTH)
    assert stored.status_code == 201, stored.text
    row = store.get(stored.json()["id"])
    assert row is not None and row.text == hidden and row.old_label == "긍정"


def test_mixed_scripts_and_emoji_sequences_are_scored_and_stored_as_sent(
    http: httpx.Client, store: FeedbackStore
) -> None:
    text = "보스 보상 좋다 👍 great ответ 良い مرحبا 👨\u200d👩\u200d👧 ㅋㅋㅋㅋ"
    answer = http.post("/predict", json={"text": text})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"][0]["status"] == "ok"
    stored = http.post("/feedback", json=_feedback("mixed", text=text), headers=AUTH)
    assert stored.status_code == 201, stored.text
    assert store.get(stored.json()["id"]).text == text  # type: ignore[union-attr]


def test_a_10000_character_text_is_scored_and_stored_whole(
    http: httpx.Client, store: FeedbackStore
) -> None:
    assert len(LONG) == 10_000
    answer = http.post("/predict", json={"text": LONG, "explain": True})
    assert answer.status_code == 200, answer.text
    prediction = answer.json()["predictions"][0]
    assert prediction["label"] == "긍정" and prediction["text"] == LONG
    stored = http.post("/feedback", json=_feedback("long", text=LONG), headers=AUTH)
    assert stored.status_code == 201, stored.text
    row = store.get(stored.json()["id"])
    assert row is not None and row.text == LONG
    too_long = "가" * (MAX_TEXT_CHARS + 1)
    refused = http.post("/feedback", json=_feedback("longer", text=too_long), headers=AUTH)
    assert refused.status_code == 422
    assert f"at most {MAX_TEXT_CHARS} characters" in refused.json()["detail"][0]["msg"]


def test_a_lake_that_cannot_be_read_answers_503_and_the_retry_stores_once(tmp_path: Path) -> None:
    settings = serving_settings(tmp_path, model_check_interval_s=60.0)
    version = train_ensemble(settings.models)
    settings.warehouse.mkdir(parents=True, exist_ok=True)
    catalog = settings.warehouse / "catalog.sqlite"
    catalog.write_bytes(b"not a catalog " * 100)  # a damaged catalog file
    store = FeedbackStore(settings.feedback_db)
    post = {"board_id": 1, "post_id": 1, "new_label": "중립", "idempotency_key": "lake-down"}
    review = _review("lake-down-review")
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as http:
        for path, body in (("/feedback", post), ("/review", review)):
            refused = http.post(path, json=body, headers=AUTH)
            assert refused.status_code == 503, refused.text
            assert "retry with the same idempotency_key" in refused.json()["detail"]
        assert _state(store) == ([], {}, [])
        catalog.unlink()
        write_predictions(Lakehouse(settings.warehouse), version, [(1, 1, "긍정", 0.9)])
        stored = http.post("/feedback", json=post, headers=AUTH)
        assert stored.status_code == 201, stored.text
        assert (stored.json()["old_label"], stored.json()["model_version"]) == ("긍정", version)
        assert http.post("/feedback", json=post, headers=AUTH).status_code == 200
    assert store.count() == 1
