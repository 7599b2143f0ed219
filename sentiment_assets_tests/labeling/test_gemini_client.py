"""The real google-genai client against a local server speaking Gemini generateContent."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from sentiment_assets.lib.labeling.config import LabelerConfig, build_labeler
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer, keyword_label
from sentiment_assets.lib.labeling.labeler import LlmLabeler
from sentiment_assets.lib.labeling.records import PostToLabel
from sentiment_assets_tests.labeling.conftest import assert_no_invented_labels

POSTS = [
    PostToLabel("a", "보스 보상 너프 진짜 최악"),
    PostToLabel("b", "22성 강화 성공 너무 행복"),
    PostToLabel("c", "아델 코어 순서 질문드립니다"),
]
KEY = "AIza-test-key-never-logged"


def labeler(server: FakeLlmServer, tmp_path: Path, **overrides: object) -> LlmLabeler:
    settings: dict[str, object] = {
        "provider": "gemini",
        "base_url": server.base_url,
        "batch_size": 3,
        "base_delay_s": 0.01,
        "timeout_s": 5.0,
        "use_cache": False,
    }
    settings.update(overrides)
    built = build_labeler(
        LabelerConfig(**settings),  # type: ignore[arg-type]
        cache_dir=tmp_path,
        models_root=tmp_path / "models",
        environ={"GEMINI_API_KEY": KEY},
    )
    assert isinstance(built, LlmLabeler)
    return built


def test_gemini_happy_path_sends_a_response_schema_and_the_key_only_in_the_header(
    gemini_server: FakeLlmServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = labeler(gemini_server, tmp_path).label(POSTS)
    assert_no_invented_labels(result.attempts)
    assert {a.key: a.label for a in result.attempts} == {
        p.key: keyword_label(p.text) for p in POSTS
    }
    seen = gemini_server.model.seen[0]
    assert seen.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert seen.headers["x-goog-api-key"] == KEY
    config = seen.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    labels_schema = config["responseSchema"]["properties"]["labels"]
    assert labels_schema["items"]["properties"]["label"]["enum"] == ["부정", "중립", "긍정"]
    assert labels_schema["items"]["properties"]["id"]["enum"] == ["p1", "p2", "p3"]
    assert "무시" in seen.body["systemInstruction"]["parts"][0]["text"]
    summary = result.summary
    assert summary.provider == "gemini" and summary.model == "gemini-2.5-flash"
    # gemini-2.5-flash is in the price table: $0.30 in / $2.50 out per million tokens.
    expected = (summary.tokens_in * 0.30 + summary.tokens_out * 2.50) / 1e6
    assert summary.cost_usd == pytest.approx(expected, abs=1e-6) and expected > 0
    assert KEY not in caplog.text and all(KEY not in str(a.as_row()) for a in result.attempts)


def test_gemini_429_honours_retry_delay(gemini_server: FakeLlmServer, tmp_path: Path) -> None:
    gemini_server.model.retry_after_s = 0.4
    gemini_server.model.queue("rate_limit")
    started = time.perf_counter()
    result = labeler(gemini_server, tmp_path, base_delay_s=5.0).label(POSTS)
    assert time.perf_counter() - started >= 0.4
    assert result.summary.http_retries == 1 and result.summary.posts_labeled == 3


def test_gemini_5xx_and_timeouts_end_as_failed_never_as_labels(
    gemini_server: FakeLlmServer, tmp_path: Path
) -> None:
    gemini_server.model.queue("server_error", "server_error")
    result = labeler(gemini_server, tmp_path, max_retries=1).label(POSTS)
    assert {a.status for a in result.attempts} == {"failed"}
    assert all("Gemini HTTP 503" in (a.error or "") for a in result.attempts)
    gemini_server.model.slow_s = 0.8
    gemini_server.model.queue("slow", "slow")
    timed_out = labeler(gemini_server, tmp_path, max_retries=1, timeout_s=0.3).label(POSTS)
    assert {a.status for a in timed_out.attempts} == {"failed"}
    assert all("no answer within" in (a.error or "") for a in timed_out.attempts)
    assert_no_invented_labels(result.attempts + timed_out.attempts)


def test_gemini_text_is_validated_even_when_it_is_not_json(
    gemini_server: FakeLlmServer, tmp_path: Path
) -> None:
    gemini_server.model.queue("malformed", "bad_label")
    result = labeler(gemini_server, tmp_path, batch_size=1).label(POSTS[:2])
    assert_no_invented_labels(result.attempts)
    statuses = sorted((a.key, a.attempt, a.status) for a in result.attempts)
    assert statuses == [("a", 1, "invalid"), ("a", 2, "ok"), ("b", 1, "invalid"), ("b", 2, "ok")]
