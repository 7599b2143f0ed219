"""Reviewers' own API tokens: stored as digests, created and revoked with `sentiment reviewers`,
and the only thing that lets a write through; the reviewer, the old label and the model version
of every write come from the token and the store, never from the request.

The API runs under uvicorn on 127.0.0.1 over a real store and a real lakehouse holding the
champion's predictions; tokens are created and revoked through the CLI's `main`, as an operator
would, while the server runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.lib.feedback.store import FeedbackError, FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.settings import TOKEN_ENV, ServingSettings
from sentiment_assets_tests.feedback.helpers import (
    add_reviewer,
    bearer,
    serve,
    serving_settings,
    train_ensemble,
    write_predictions,
)

SHARED = "the-old-shared-token-of-2025"


class Api:
    """The served app, its store, and the tokens of its reviewers."""

    def __init__(self, url: str, settings: ServingSettings, version: str):
        self.url = url
        self.settings = settings
        self.version = version
        self.store = FeedbackStore(settings.feedback_db)
        self.tokens: dict[str, str] = {}

    def cli(self, *args: str) -> int:
        return main(["reviewers", *args, "--store", str(self.settings.feedback_db)])

    def state(self) -> tuple[object, ...]:
        """Everything a write could change."""
        return (
            self.store.rows_after(0),
            self.store.reviews(),
            self.store.audit_trail(limit=1_000_000),
        )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("reviewers")
    settings = replace(
        serving_settings(root, model_check_interval_s=60.0, review_cache_s=0.0),
        shared_token=SHARED,
    )
    version = train_ensemble(settings.models)
    write_predictions(
        Lakehouse(settings.warehouse),
        version,
        [(1, 1, "긍정", 0.9), (1, 2, "부정", 0.4), (1, 3, "중립", 0.5), (1, 4, "긍정", 0.6)],
    )
    with serve(create_app(settings)) as url:
        served = Api(url, settings, version)
        for name in ("alice", "bob", "revoked-rita"):
            served.tokens[name] = add_reviewer(settings.feedback_db, name)
        served.store.revoke_reviewer("revoked-rita")
        yield served


@pytest.fixture
def http(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client


WRITES: dict[str, dict[str, Any]] = {
    "/feedback": {"text": "보스 보상 너무 좋다", "new_label": "부정", "idempotency_key": "w-f"},
    "/review": {"board_id": 1, "post_id": 1, "decision": "accept", "idempotency_key": "w-r"},
}


def _headers(api: Api, credential: str) -> dict[str, str]:
    return {
        "missing": {},
        "not bearer": {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
        "wrong": bearer("msr_" + "x" * 43),
        "revoked": bearer(api.tokens["revoked-rita"]),
        "shared": bearer(SHARED),
    }[credential]


@pytest.mark.parametrize("path", sorted(WRITES))
@pytest.mark.parametrize(
    ("credential", "code", "says"),
    [
        ("missing", 401, "Bearer"),
        ("not bearer", 401, "Bearer"),
        ("wrong", 403, "unknown token"),
        ("revoked", 403, "revoked"),
        ("shared", 403, "sentiment reviewers create NAME --adopt-shared-token"),
    ],
)
def test_every_write_endpoint_refuses_a_missing_wrong_revoked_or_shared_token(
    api: Api, http: httpx.Client, path: str, credential: str, code: int, says: str
) -> None:
    before = api.state()
    response = http.post(path, json=WRITES[path], headers=_headers(api, credential))
    assert response.status_code == code, response.text
    assert says in response.json()["detail"]
    assert api.state() == before


@pytest.mark.parametrize("path", ["/me", "/audit"])
@pytest.mark.parametrize("credential", ["missing", "wrong", "revoked", "shared"])
def test_the_reviewers_own_reads_need_a_live_token_too(
    api: Api, http: httpx.Client, path: str, credential: str
) -> None:
    response = http.get(path, headers=_headers(api, credential))
    assert response.status_code in (401, 403), response.text


def test_the_reviewer_of_every_write_is_the_owner_of_its_token(
    api: Api, http: httpx.Client
) -> None:
    alice, bob = bearer(api.tokens["alice"]), bearer(api.tokens["bob"])
    assert http.get("/me", headers=alice).json()["reviewer"] == "alice"
    text = {"text": "이번 패치 진짜 좋다", "new_label": "긍정", "idempotency_key": "who-1"}
    stored = http.post("/feedback", json=text, headers=alice)
    assert stored.status_code == 201, stored.text
    review = {"board_id": 1, "post_id": 3, "decision": "accept", "idempotency_key": "who-2"}
    decided = http.post("/review", json=review, headers=bob)
    assert decided.status_code == 200, decided.text
    assert api.store.get(stored.json()["id"]).reviewer == "alice"  # type: ignore[union-attr]
    assert api.store.reviews()[(1, 3)].reviewer == "bob"
    trail = {a["idempotency_key"]: a["who"] for a in api.store.audit_trail()}
    assert (trail["who-1"], trail["who-2"]) == ("alice", "bob")
    audit = http.get("/audit", params={"board_id": 1, "post_id": 3}, headers=alice).json()
    assert [(a["who"], a["action"]) for a in audit] == [("bob", "accept")]

    # A client that names a reviewer is told the API does that, and nothing is written.
    before = api.state()
    for path, body in (("/feedback", text), ("/review", review)):
        forged = body | {"reviewer": "bob", "idempotency_key": "who-forged"}
        response = http.post(path, json=forged, headers=alice)
        assert response.status_code == 422, response.text
        assert "owner of the bearer token" in response.json()["detail"][0]["msg"]
    assert api.state() == before


def test_old_label_model_version_and_confidence_come_from_the_store(
    api: Api, http: httpx.Client
) -> None:
    alice = bearer(api.tokens["alice"])
    post = {"board_id": 1, "post_id": 2, "new_label": "긍정", "idempotency_key": "prov-1"}
    stored = http.post("/feedback", json=post, headers=alice).json()
    # The lake holds the champion's prediction for 1/2: 부정 at 0.40.
    assert (stored["old_label"], stored["model_version"]) == ("부정", api.version)
    assert stored["confidence"] == pytest.approx(0.40)

    text = "버그 너무 많다 최악"
    predicted = http.post("/predict", json={"text": text}).json()
    body = {"text": text, "new_label": "중립", "idempotency_key": "prov-2"}
    stored = http.post("/feedback", json=body, headers=alice).json()
    assert stored["old_label"] == predicted["predictions"][0]["label"] == "부정"
    assert stored["model_version"] == predicted["model_version"]

    review = {
        "board_id": 1,
        "post_id": 4,
        "decision": "correct",
        "corrected_label": "중립",
        "idempotency_key": "prov-3",
    }
    decided = http.post("/review", json=review, headers=alice).json()
    row = api.store.get(decided["feedback_id"])
    assert row is not None
    assert (row.old_label, row.model_version, row.confidence) == ("긍정", api.version, 0.6)
    (entry,) = api.store.audit_trail(board_id=1, post_id=4)
    assert (entry["old_label"], entry["model_version"]) == ("긍정", api.version)

    before = api.state()
    for forged in ({"old_label": "긍정"}, {"model_version": "v0"}, {"confidence": 0.99}):
        response = http.post(
            "/feedback", json=post | forged | {"idempotency_key": "p"}, headers=alice
        )
        assert response.status_code == 422, response.text
        assert "do not send" in response.json()["detail"][0]["msg"]
    assert api.state() == before


def test_a_token_revoked_while_the_api_runs_is_refused_from_the_next_request(
    api: Api, http: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert api.cli("create", "dave") == 0
    token = capsys.readouterr().out.strip()
    body = {"text": "점검 일정 언제", "new_label": "중립", "idempotency_key": "dave-1"}
    assert http.post("/feedback", json=body, headers=bearer(token)).status_code == 201
    assert api.cli("revoke", "dave") == 0
    before = api.state()
    again = body | {"idempotency_key": "dave-2"}
    refused = http.post("/feedback", json=again, headers=bearer(token))
    assert refused.status_code == 403 and "revoked" in refused.json()["detail"]
    assert api.state() == before


def test_the_shared_token_is_refused_until_an_operator_adopts_it_for_a_reviewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server of its own: once adopted, the shared value is a reviewer's token for good.
    settings = replace(serving_settings(tmp_path), shared_token=SHARED)
    body = {"text": "직업 밸런스 좋다", "new_label": "긍정", "idempotency_key": "shared-1"}
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        refused = http.post("/feedback", json=body, headers=bearer(SHARED))
        assert refused.status_code == 403 and TOKEN_ENV in refused.json()["detail"]
        assert FeedbackStore(settings.feedback_db).count() == 0
        monkeypatch.setenv(TOKEN_ENV, SHARED)
        store = str(settings.feedback_db)
        assert (
            main(["reviewers", "create", "team-bot", "--adopt-shared-token", "--store", store]) == 0
        )
        adopted = http.post("/feedback", json=body, headers=bearer(SHARED))
        assert adopted.status_code == 201, adopted.text
        assert adopted.json()["reviewer"] == "team-bot"


def test_the_store_keeps_only_a_digest_of_each_token(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    token = store.create_reviewer("  erin  ")
    assert token.startswith("msr_") and len(token) > 40
    owner = store.token_owner(token)
    assert owner is not None and (owner.reviewer, owner.active) == ("erin", True)
    assert store.token_owner(token + "x") is None
    with pytest.raises(FeedbackError, match="already has an active token"):
        store.create_reviewer("erin")
    for bad in ("", "\u200b\u3164", "a\x00b", "x" * 101):
        with pytest.raises(FeedbackError, match="reviewer name"):
            store.create_reviewer(bad)
    with pytest.raises(FeedbackError, match="at least 16"):
        store.create_reviewer("frank", token="short")
    store.revoke_reviewer("erin")
    with pytest.raises(FeedbackError, match="no active token"):
        store.revoke_reviewer("erin")
    assert not store.token_owner(token).active  # type: ignore[union-attr]
    second = store.create_reviewer("erin")  # a new token after revoking the old one
    assert [t.active for t in store.reviewer_tokens(include_revoked=True)] == [False, True]
    store.close()
    for path in tmp_path.iterdir():  # the database and its WAL
        raw = path.read_bytes()
        assert token.encode() not in raw and second.encode() not in raw
    with sqlite3.connect(tmp_path / "feedback.sqlite") as con:
        columns = [r[1] for r in con.execute("pragma table_info(reviewer_tokens)")]
    assert columns == ["id", "reviewer", "token_sha256", "created_at", "revoked_at"]


def test_the_reviewers_command_creates_lists_and_revokes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "feedback.sqlite")
    assert main(["reviewers", "list", "--store", db]) == 0
    assert "no reviewers" in capsys.readouterr().out
    assert main(["reviewers", "create", "gina", "--store", db]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("msr_") and "\n" not in token and "shown only this once" in err
    assert FeedbackStore(Path(db)).token_owner(token).reviewer == "gina"  # type: ignore[union-attr]
    assert main(["reviewers", "create", "gina", "--store", db]) == 2
    assert "already has an active token" in capsys.readouterr().err
    assert main(["reviewers", "list", "--store", db]) == 0
    listed = capsys.readouterr().out
    assert "gina" in listed and "active" in listed and token not in listed
    assert main(["reviewers", "revoke", "gina", "--store", db]) == 0
    assert main(["reviewers", "revoke", "gina", "--store", db]) == 2
    capsys.readouterr()
    assert main(["reviewers", "list", "--store", db]) == 0
    assert "no reviewers with an active token" in capsys.readouterr().out
    assert main(["reviewers", "list", "--all", "--store", db]) == 0
    assert "revoked" in capsys.readouterr().out
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["reviewers", "create", "hank", "--adopt-shared-token", "--store", db]) == 2
    assert f"{TOKEN_ENV} is not set" in capsys.readouterr().err
