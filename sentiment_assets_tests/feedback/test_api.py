"""The serving API over a real uvicorn server on 127.0.0.1, a real store and a real lakehouse."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.schemas import MAX_TEXT_CHARS
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets_tests.feedback.helpers import (
    REVIEWER,
    TOKEN,
    add_reviewer,
    serve,
    serving_settings,
    train_ensemble,
    write_posts,
    write_predictions,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServingSettings]]:
    root = tmp_path_factory.mktemp("api")
    settings = serving_settings(
        root, max_body_bytes=131_072, model_check_interval_s=0.0, review_cache_s=0.0
    )
    version = train_ensemble(settings.models)
    lake = Lakehouse(settings.warehouse)
    write_predictions(
        lake,
        version,
        [(1, 1, "긍정", 0.95), (1, 2, "부정", 0.40), (2, 3, "중립", 0.55), (2, 4, "긍정", 0.70)],
    )
    write_posts(
        lake,
        [
            (1, 1, "히어로", "2025-01-01"),
            (1, 2, "히어로", "2025-01-05"),
            (2, 3, "비숍", "2025-01-05"),
            (2, 4, "비숍", "2025-02-01"),
        ],
    )
    with serve(create_app(settings)) as url:
        yield url, settings


@pytest.fixture
def client(env: tuple[str, ServingSettings]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env[0], timeout=30) as c:
        yield c


@pytest.fixture
def store(env: tuple[str, ServingSettings]) -> FeedbackStore:
    return FeedbackStore(env[1].feedback_db)


def _feedback(key: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "text": "보스 보상 너무 좋다",
        "new_label": "긍정",
        "idempotency_key": key,
    }
    body.update(overrides)
    return body


def test_health_reports_the_loaded_model(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model_version"] and body["model_error"] is None


def test_openapi_documents_every_endpoint_with_examples(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/predict", "/feedback", "/review-queue", "/review", "/health"} <= set(spec["paths"])
    assert spec["components"]["schemas"]["FeedbackRequest"]["examples"]
    assert "bearer" in json.dumps(spec["components"]["securitySchemes"]).lower()
    assert "401" in spec["paths"]["/feedback"]["post"]["responses"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 403),
        ({"Authorization": "Basic eDp5"}, 401),
    ],
)
def test_feedback_without_the_right_token_is_refused(
    client: httpx.Client, store: FeedbackStore, headers: dict[str, str], code: int
) -> None:
    before = store.count()
    response = client.post("/feedback", json=_feedback("no-auth"), headers=headers)
    assert response.status_code == code, response.text
    if code == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert store.count() == before


def test_oversized_bodies_get_413_declared_or_streamed(
    client: httpx.Client, store: FeedbackStore
) -> None:
    before = store.count()
    big = json.dumps(_feedback("big", comment="x" * 200_000)).encode()
    declared = client.post(
        "/feedback", content=big, headers=AUTH | {"content-type": "application/json"}
    )
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1024):
            yield big[start : start + 1024]

    streamed = client.post(
        "/feedback", content=chunks(), headers=AUTH | {"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert store.count() == before


@pytest.mark.parametrize(
    "body",
    [
        _feedback("bad-label", new_label="positive"),
        _feedback("empty", text="   "),
        _feedback("too-long", text="a" * (MAX_TEXT_CHARS + 1)),
        _feedback("reviewer", reviewer="mallory"),
        _feedback("no-target", text=None),
        _feedback("half-post", text=None, board_id=1),
        _feedback("extra", mood="happy"),
        _feedback("", text="좋다"),
        _feedback("conf", confidence=2.0),
    ],
)
def test_invalid_feedback_gets_422_and_writes_nothing(
    client: httpx.Client, store: FeedbackStore, body: dict[str, object]
) -> None:
    before = store.count()
    response = client.post("/feedback", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert store.count() == before


def test_invalid_json_gets_422(client: httpx.Client, store: FeedbackStore) -> None:
    before = store.count()
    response = client.post(
        "/feedback", content=b'{"text": "x",', headers=AUTH | {"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert store.count() == before


def test_feedback_is_stored_once_per_key_with_model_provenance(
    client: httpx.Client, store: FeedbackStore
) -> None:
    first = client.post("/feedback", json=_feedback("k-1"), headers=AUTH)
    assert first.status_code == 201, first.text
    body = first.json()
    # No old label sent: the champion's prediction becomes the label being corrected.
    assert body["old_label"] in ("부정", "중립", "긍정") and body["model_version"]
    assert 0 <= body["confidence"] <= 1
    assert body["reviewer"] == REVIEWER  # the token's owner
    replay = client.post("/feedback", json=_feedback("k-1"), headers=AUTH)
    assert replay.status_code == 200 and replay.json()["id"] == body["id"]
    assert not replay.json()["created"]
    conflict = client.post("/feedback", json=_feedback("k-1", new_label="부정"), headers=AUTH)
    assert conflict.status_code == 409
    post = client.post(
        "/feedback",
        json=_feedback("k-2", text=None, board_id=1, post_id=2, new_label="중립"),
        headers=AUTH,
    )
    assert post.status_code == 201
    assert store.get(body["id"]).new_label == "긍정"  # type: ignore[union-attr]


def test_predict_one_text_and_a_batch(client: httpx.Client) -> None:
    one = client.post("/predict", json={"text": "보스 보상 좋다"})
    assert one.status_code == 200, one.text
    prediction = one.json()["predictions"][0]
    assert prediction["label"] == "긍정"
    assert abs(sum(prediction["probabilities"].values()) - 1) < 1e-6
    assert prediction["members"]["lexicon"]["agrees"] is True
    batch = client.post("/predict", json={"texts": ["버그 최악 짜증", "점검 일정 언제"]})
    assert [p["label"] for p in batch.json()["predictions"]] == ["부정", "중립"]
    for bad in ({"text": ""}, {"texts": []}, {"text": "a", "texts": ["b"]}, {"texts": [" "]}):
        assert client.post("/predict", json=bad).status_code == 422, bad


def test_review_queue_ranks_filters_and_review_marks_reviewed(
    client: httpx.Client, store: FeedbackStore
) -> None:
    queue = client.get("/review-queue").json()
    assert [(i["board_id"], i["post_id"]) for i in queue["items"]] == [
        (1, 2),
        (2, 3),
        (2, 4),
        (1, 1),
    ]
    assert queue["total"] == 4 and queue["items"][0]["job"] == "히어로"
    assert queue["items"][0]["member_labels"] == {"lexicon": "부정"}
    assert queue["items"][0]["reason"].startswith("uncertainty 0.60")
    assert not any(i["injection_suspected"] for i in queue["items"])
    by_job = client.get("/review-queue", params={"job": "비숍"}).json()
    assert {i["post_id"] for i in by_job["items"]} == {3, 4}
    period = client.get(
        "/review-queue", params={"since": "2025-01-02T00:00:00", "until": "2025-01-31T00:00:00"}
    ).json()
    assert {i["post_id"] for i in period["items"]} == {2, 3}
    board = client.get("/review-queue", params={"board_id": 1}).json()
    assert {i["post_id"] for i in board["items"]} == {1, 2}

    before = store.count()
    review = {
        "board_id": 1,
        "post_id": 2,
        "decision": "correct",
        "corrected_label": "중립",
        "idempotency_key": "rv-1",
    }
    assert client.post("/review", json=review).status_code == 401
    done = client.post("/review", json=review, headers=AUTH)
    assert done.status_code == 200, done.text
    assert done.json()["reviewed"] and done.json()["feedback_id"]
    assert store.count() == before + 1
    row = store.get(done.json()["feedback_id"])
    assert row is not None and (row.old_label, row.new_label) == ("부정", "중립")
    assert row.model_version and row.confidence == pytest.approx(0.40)
    accept = {
        "board_id": 2,
        "post_id": 3,
        "decision": "accept",
        "idempotency_key": "rv-2",
    }
    assert client.post("/review", json=accept, headers=AUTH).status_code == 200
    after = client.get("/review-queue").json()
    assert [i["post_id"] for i in after["items"]] == [4, 1]
    assert (after["total"], after["reviewed"]) == (4, 2)
    missing = accept | {"post_id": 999, "idempotency_key": "rv-3"}
    assert client.post("/review", json=missing, headers=AUTH).status_code == 404
    bad = review | {"decision": "correct", "corrected_label": None, "idempotency_key": "rv-4"}
    assert client.post("/review", json=bad, headers=AUTH).status_code == 422


def test_a_new_model_version_is_swapped_in(
    client: httpx.Client, env: tuple[str, ServingSettings]
) -> None:
    old = client.get("/health").json()["model_version"]
    time.sleep(0.01)
    new = train_ensemble(env[1].models)
    deadline = time.monotonic() + 20
    while client.get("/health").json()["model_version"] != new:
        assert time.monotonic() < deadline, "the new version was never served"
        time.sleep(0.1)
    assert new != old
    assert client.post("/predict", json={"text": "좋다"}).json()["model_version"] == new


def test_without_a_model_predict_is_503_and_feedback_still_works(tmp_path: Path) -> None:
    settings = ServingSettings(
        warehouse=tmp_path / "w",
        models=tmp_path / "m",
        feedback_db=tmp_path / "w" / "feedback.sqlite",
    )
    add_reviewer(settings.feedback_db, REVIEWER, token=TOKEN)
    with serve(create_app(settings)) as url, httpx.Client(base_url=url) as c:
        response = c.post("/predict", json={"text": "좋다"})
        assert response.status_code == 503 and "no trained ensemble" in response.json()["detail"]
        assert c.post("/feedback", json=_feedback("x"), headers=AUTH).status_code == 201
        assert c.get("/review-queue").json() == {
            "model_version": None,
            "total": 0,
            "reviewed": 0,
            "items": [],
        }


def test_the_kept_lake_reader_sees_rows_committed_after_it_opened(
    client: httpx.Client, env: tuple[str, ServingSettings]
) -> None:
    queue = client.get("/review-queue", params={"include_reviewed": True}).json()
    write_predictions(Lakehouse(env[1].warehouse), queue["model_version"], [(3, 5, "중립", 0.34)])
    again = client.get("/review-queue", params={"include_reviewed": True}).json()
    assert again["total"] == queue["total"] + 1
    assert (again["items"][0]["board_id"], again["items"][0]["post_id"]) == (3, 5)
