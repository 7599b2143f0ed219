"""The serving API's contract: a rejected request writes nothing, and no input makes a 5xx.

Every rejection the issue names (missing or wrong token, oversized body, unknown label, empty
or invisible text, control characters, a field only the server fills in, invalid JSON, and a
reused idempotency key) is sent to both write endpoints, and the
store's rows, review states and audit trail are compared before and after. Then schemathesis
generates requests from /openapi.json (valid ones and, in negative mode, ones that
break the schema) and sends them to a real uvicorn server on 127.0.0.1 with a trained model and
a lakehouse holding predictions, once with the bearer token and once without. A 5xx is a bug
in lib/serving; the examples per operation are bounded so the run stays within seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets_tests.feedback.helpers import (
    TOKEN,
    serve,
    serving_settings,
    train_ensemble,
    write_posts,
    write_predictions,
)

EXAMPLES = 25
"""Examples per operation and generation mode: enough to reach every validator and the 4xx
paths, few enough to keep the run in seconds."""
OPERATIONS = [
    ("GET", "/health"),
    ("POST", "/predict"),
    ("POST", "/feedback"),
    ("GET", "/review-queue"),
    ("POST", "/review"),
    ("GET", "/me"),
    ("GET", "/audit"),
]
NEEDS_TOKEN = {"/feedback", "/review", "/me", "/audit"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServingSettings]]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = serving_settings(
        root, max_body_bytes=16_384, model_check_interval_s=60.0, review_cache_s=0.0
    )
    version = train_ensemble(settings_.models)
    lake = Lakehouse(settings_.warehouse)
    # Small ids that generated integers hit, so /review reaches the store, not only the 404.
    write_predictions(lake, version, [(0, 0, "부정", 0.4), (1, 1, "긍정", 0.9)])
    write_posts(lake, [(0, 0, "히어로", "2025-01-01"), (1, 1, "비숍", "2025-02-01")])
    with serve(create_app(settings_)) as url:
        yield url, settings_


@pytest.fixture(scope="module")
def api_url(served: tuple[str, ServingSettings]) -> str:
    return served[0]


@pytest.fixture
def store(served: tuple[str, ServingSettings]) -> FeedbackStore:
    return FeedbackStore(served[1].feedback_db)


def _state(store: FeedbackStore) -> tuple[object, ...]:
    """Everything a write could change: rows, review states, the audit trail."""
    return (store.rows_after(0), store.reviews(), store.audit_trail(limit=1_000_000))


AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"content-type": "application/json"}
FEEDBACK: dict[str, Any] = {
    "text": "보스 보상 너무 좋다",
    "new_label": "긍정",
    "idempotency_key": "contract-feedback",
}
REVIEW: dict[str, Any] = {
    "board_id": 0,
    "post_id": 0,
    "decision": "correct",
    "corrected_label": "중립",
    "idempotency_key": "contract-review",
}
REJECTIONS = [
    ("missing token", {}, None, 401),
    ("wrong token", {"Authorization": f"Bearer {TOKEN}x"}, None, 403),
    ("not a bearer token", {"Authorization": "Basic eDp5"}, None, 401),
    ("oversized body", AUTH, {"comment": "x" * 20_000}, 413),
    ("unknown label", AUTH, {"new_label": "positive", "corrected_label": "positive"}, 422),
    ("invisible text, control character", AUTH, {"text": "\u200b ", "comment": "a\x00b"}, 422),
    ("a field the server fills in", AUTH, {"reviewer": "mallory"}, 422),
    ("unknown field", AUTH, {"mood": "happy"}, 422),
    ("empty idempotency key", AUTH, {"idempotency_key": ""}, 422),
]


@pytest.mark.parametrize("path", ["/feedback", "/review"])
@pytest.mark.parametrize(
    ("case", "headers", "change", "code"), REJECTIONS, ids=[r[0] for r in REJECTIONS]
)
def test_a_rejected_write_writes_nothing(
    api_url: str,
    store: FeedbackStore,
    path: str,
    case: str,
    headers: dict[str, str],
    change: dict[str, Any] | None,
    code: int,
) -> None:
    body = (FEEDBACK if path == "/feedback" else REVIEW) | (change or {})
    if path == "/review":
        body.pop("new_label", None)
        body.pop("text", None)
    else:
        body.pop("corrected_label", None)
    before = _state(store)
    response = requests.post(f"{api_url}{path}", json=body, headers=headers, timeout=30)
    assert response.status_code == code, (case, response.text)
    assert response.json()["detail"], case
    assert _state(store) == before, case


@pytest.mark.parametrize("path", ["/feedback", "/review", "/predict"])
def test_invalid_json_is_422_and_writes_nothing(
    api_url: str, store: FeedbackStore, path: str
) -> None:
    before = _state(store)
    response = requests.post(
        f"{api_url}{path}", data=b'{"text": "x",', headers=AUTH | JSON, timeout=30
    )
    assert response.status_code == 422, response.text
    assert _state(store) == before


def test_a_review_key_reused_for_another_post_is_409_and_writes_nothing(
    api_url: str, store: FeedbackStore
) -> None:
    accept = REVIEW | {"decision": "accept", "idempotency_key": "contract-reused"}
    accept.pop("corrected_label")
    first = requests.post(f"{api_url}/review", json=accept, headers=AUTH, timeout=30)
    assert first.status_code == 200, first.text
    replay = requests.post(f"{api_url}/review", json=accept, headers=AUTH, timeout=30)
    assert replay.status_code == 200 and replay.json()["created"] is False
    before = _state(store)
    for other in (
        accept | {"board_id": 1, "post_id": 1},
        REVIEW | {"idempotency_key": "contract-reused"},
    ):
        response = requests.post(f"{api_url}/review", json=other, headers=AUTH, timeout=30)
        assert response.status_code == 409, response.text
    feedback = FEEDBACK | {"idempotency_key": "contract-reused"}
    response = requests.post(f"{api_url}/feedback", json=feedback, headers=AUTH, timeout=30)
    assert response.status_code == 409, response.text
    assert _state(store) == before


def test_a_streamed_oversized_body_gets_the_json_413_and_writes_nothing(
    api_url: str, store: FeedbackStore
) -> None:
    big = json.dumps(FEEDBACK | {"comment": "x" * 20_000}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1024):
            yield big[start : start + 1024]

    before = _state(store)
    response = requests.post(f"{api_url}/feedback", data=chunks(), headers=AUTH | JSON, timeout=30)
    assert response.status_code == 413
    assert "larger than 16384 bytes" in response.json()["detail"]
    assert _state(store) == before


def test_predict_rejects_oversized_and_empty_input_with_4xx(api_url: str) -> None:
    big = requests.post(f"{api_url}/predict", json={"text": "가" * 20_000}, timeout=30)
    assert big.status_code == 413
    for body in ({"text": " "}, {"texts": ["좋다", ""]}, {"texts": ["좋다"] * 129}, {}):
        assert requests.post(f"{api_url}/predict", json=body, timeout=30).status_code == 422


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    return schema


@pytest.fixture(scope="module")
def http(api_url: str) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_the_fuzzed_operations_are_every_operation_of_the_spec(
    api_schema: schemathesis.BaseSchema,
) -> None:
    documented = set()
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the spec has an invalid operation: {result}"
        documented.add((result.ok().method.upper(), result.ok().path))
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        (method, path, mode)
        for method, path in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        # /health and /me take no input at all, so there is nothing to make invalid.
        if not (path in ("/health", "/me") and mode == GenerationMode.NEGATIVE)
    ],
)
def test_no_input_makes_a_server_error(
    api_schema: schemathesis.BaseSchema,
    http: requests.Session,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        # Every request crosses HTTP, and negative mode filters many draws: both are expected.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: schemathesis.Case) -> None:
        # With the token every endpoint does its real work; without it, writes and the
        # reviewer's own reads fail as 4xx.
        case.call_and_validate(
            session=http,
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=[not_a_server_error],
        )
        response = case.call_and_validate(session=http, checks=[not_a_server_error])
        if path in NEEDS_TOKEN:
            assert response.status_code >= 400, f"{path} answered without the token"

    check()


def test_concurrent_predictions_equal_sequential_ones(api_url: str) -> None:
    texts = [
        "보스 보상 너무 좋다",
        "버그 최악 짜증",
        "점검 일정 언제",
        "ㅋㅋ 재밌다",
        "렉 때문에 망함",
    ]
    batches = [texts[i:] + texts[:i] for i in range(len(texts))] * 4

    def ask(batch: list[str]) -> list[dict[str, Any]]:
        response = requests.post(f"{api_url}/predict", json={"texts": batch}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["predictions"]

    expected = {p["text"]: p for p in ask(texts)}
    # The endpoint runs in uvicorn's thread pool: requests share the model and its caches.
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, batches))
    for batch, predictions in zip(batches, answers, strict=True):
        assert [p["text"] for p in predictions] == batch
        for p in predictions:
            assert p == expected[p["text"]]
