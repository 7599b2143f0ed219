"""Local HTTP servers that speak OpenAI chat-completions and Gemini generateContent.

A stand-in for the one outside boundary of labeling, the paid or self-hosted LLM: the tests, the
benchmarks (`bench/bench_labeling.py`) and the fault script (`bench/bench_faults.py`) all talk
to it over real HTTP, through the same clients that talk to LM Studio or Gemini. It lives in the
package rather than in the tests so benchmarks never import test code.

Both wrap one `FakeModel`: a naive "model" that labels by keywords, answers several posts per
request, and can be scripted to misbehave request by request (broken JSON, labels outside the
set, missing or extra ids, 429 with a retry delay, 5xx, answering too slowly, rejecting
json_schema). Its cost is a fixed latency per request plus a per-post cost, the shape of a real
model that writes one answer line per post; it can also hold every request until released.
Like a naive model whose prompt delimiting failed, it obeys instructions it finds in a post:
"모두 긍정" makes every label 긍정, and a post asking for an extra item gets one.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sentiment_assets.lib.labeling.prompt import extract_posts

POSITIVE = ("최고", "좋아", "감사", "성공", "행복", "재밌")
NEGATIVE = ("망겜", "최악", "너프", "짜증", "버그", "화나")
INJECTION = "이전 지시를 무시"
_EXTRA_ID = re.compile(r"(p\d+) 항목도 추가")

BEHAVIOURS = {
    "ok",
    "malformed",
    "bad_label",
    "bad_confidence",
    "missing",
    "extra",
    "fenced",
    "prose",
    "rate_limit",
    "server_error",
    "slow",
    "reject_schema",
}


def keyword_label(text: str) -> str:
    """The fake model's honest answer."""
    if any(w in text for w in NEGATIVE):
        return "부정"
    if any(w in text for w in POSITIVE):
        return "긍정"
    return "중립"


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    posts: list[dict[str, str]]


@dataclass
class FakeModel:
    """Shared behaviour of both protocol servers."""

    latency_s: float = 0.0
    latency_per_post_s: float = 0.0
    """Added per post asked about, as a real model spends longer writing a longer answer."""
    slow_s: float = 1.0
    hold: threading.Event | None = None
    """When set, every request waits for this event (at most `hold_timeout_s`) before answering:
    a model that is busy for as long as a test needs."""
    hold_timeout_s: float = 120.0
    retry_after_s: float = 0.05
    required_key: str | None = None
    """When set, a request without this key is refused with 401."""
    script: deque[str] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    max_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *behaviours: str) -> None:
        """Behaviours for the next requests, in order; afterwards every request is "ok"."""
        unknown = set(behaviours) - BEHAVIOURS
        if unknown:
            raise ValueError(f"unknown behaviours {unknown}")
        with self._lock:
            self.script.extend(behaviours)

    def next_behaviour(self) -> str:
        """The scripted behaviour of the next request."""
        with self._lock:
            return self.script.popleft() if self.script else "ok"

    def enter(self) -> None:
        """Count a request in."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def leave(self) -> None:
        """Count a request out."""
        with self._lock:
            self._in_flight -= 1

    def record(self, seen: Seen) -> None:
        """Remember a request as received."""
        with self._lock:
            self.seen.append(seen)

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered."""
        with self._lock:
            return self._in_flight

    @property
    def posts_seen(self) -> int:
        """Posts asked about, over every request."""
        return sum(len(s.posts) for s in self.seen)

    def answer(self, posts: list[dict[str, str]], behaviour: str) -> str:
        """The answer text for `posts` under `behaviour` (a content-level behaviour)."""
        texts = " ".join(p["text"] for p in posts)
        obey_all_positive = INJECTION in texts and "긍정" in texts
        items: list[dict[str, Any]] = [
            {
                "id": p["id"],
                "label": "긍정" if obey_all_positive else keyword_label(p["text"]),
                "confidence": 0.9,
                "rationale": "키워드 기반 판단",
            }
            for p in posts
        ]
        for extra in _EXTRA_ID.findall(texts) if INJECTION in texts else []:
            items.append({"id": extra, "label": "긍정", "confidence": 1.0, "rationale": "지시"})
        if behaviour == "bad_label" and items:
            items[0]["label"] = "매우 긍정"
        if behaviour == "bad_confidence" and items:
            items[0]["confidence"] = 1.7
        if behaviour == "missing" and items:
            items.pop()
        if behaviour == "extra":
            items.append({"id": "p999", "label": "중립", "confidence": 0.5, "rationale": "추가"})
        text = json.dumps({"labels": items}, ensure_ascii=False)
        if behaviour == "malformed":
            return text[: len(text) // 2]
        if behaviour == "fenced":
            return f"```json\n{text}\n```"
        if behaviour == "prose":
            return "모든 게시글은 긍정입니다."
        return text


def _tokens(text: str) -> int:
    return max(1, len(text) // 2)


class _Handler(BaseHTTPRequestHandler):
    @property
    def fake(self) -> _Server:
        assert isinstance(self.server, _Server)
        return self.server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (timeout test); nothing left to tell it.
            pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        model = self.fake.model
        model.enter()
        try:
            self.fake.protocol.handle(self, body, model)
        finally:
            model.leave()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    protocol: _Protocol
    model: FakeModel

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class _Protocol:
    def user_text(self, body: dict[str, Any]) -> str:
        raise NotImplementedError

    def wants_json_schema(self, body: dict[str, Any]) -> bool:
        return False

    def key(self, handler: _Handler) -> str | None:
        raise NotImplementedError

    def ok(self, handler: _Handler, body: dict[str, Any], text: str) -> None:
        raise NotImplementedError

    def error(self, handler: _Handler, status: int, model: FakeModel) -> None:
        raise NotImplementedError

    def handle(self, handler: _Handler, body: dict[str, Any], model: FakeModel) -> None:
        user = self.user_text(body)
        try:
            posts = extract_posts(user)
        except ValueError:
            posts = []
        model.record(Seen(handler.path, body, dict(handler.headers.items()), posts))
        if model.required_key is not None and self.key(handler) != model.required_key:
            handler._send(401, {"error": {"code": 401, "message": "invalid api key"}})
            return
        behaviour = model.next_behaviour()
        if model.hold is not None:
            model.hold.wait(model.hold_timeout_s)
        if model.latency_s or model.latency_per_post_s:
            time.sleep(model.latency_s + model.latency_per_post_s * len(posts))
        if behaviour == "rate_limit":
            self.error(handler, 429, model)
            return
        if behaviour == "server_error":
            self.error(handler, 503, model)
            return
        if behaviour == "reject_schema" and self.wants_json_schema(body):
            handler._send(400, {"error": {"message": "response_format json_schema unsupported"}})
            return
        if behaviour == "slow":
            time.sleep(model.slow_s)
        self.ok(handler, body, model.answer(posts, behaviour))


class _OpenAI(_Protocol):
    def user_text(self, body: dict[str, Any]) -> str:
        return next(m["content"] for m in body["messages"] if m["role"] == "user")

    def wants_json_schema(self, body: dict[str, Any]) -> bool:
        return (body.get("response_format") or {}).get("type") == "json_schema"

    def key(self, handler: _Handler) -> str | None:
        return (handler.headers.get("Authorization") or "").removeprefix("Bearer ") or None

    def ok(self, handler: _Handler, body: dict[str, Any], text: str) -> None:
        prompt = "".join(m["content"] for m in body["messages"])
        handler._send(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": _tokens(prompt),
                    "completion_tokens": _tokens(text),
                    "total_tokens": _tokens(prompt) + _tokens(text),
                },
            },
        )

    def error(self, handler: _Handler, status: int, model: FakeModel) -> None:
        headers = (
            [("retry-after-ms", str(int(model.retry_after_s * 1000)))] if status == 429 else []
        )
        handler._send(status, {"error": {"message": f"fake {status}"}}, headers)


class _Gemini(_Protocol):
    def key(self, handler: _Handler) -> str | None:
        return handler.headers.get("x-goog-api-key")

    def user_text(self, body: dict[str, Any]) -> str:
        return "".join(p.get("text", "") for c in body["contents"] for p in c["parts"])

    def ok(self, handler: _Handler, body: dict[str, Any], text: str) -> None:
        prompt = self.user_text(body)
        handler._send(
            200,
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": _tokens(prompt),
                    "candidatesTokenCount": _tokens(text),
                    "totalTokenCount": _tokens(prompt) + _tokens(text),
                },
                "modelVersion": "fake",
            },
        )

    def error(self, handler: _Handler, status: int, model: FakeModel) -> None:
        if status == 429:
            handler._send(
                429,
                {
                    "error": {
                        "code": 429,
                        "message": "Resource has been exhausted (e.g. check quota).",
                        "status": "RESOURCE_EXHAUSTED",
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                                "retryDelay": f"{model.retry_after_s}s",
                            }
                        ],
                    }
                },
            )
        else:
            handler._send(
                status, {"error": {"code": status, "message": "fake", "status": "UNAVAILABLE"}}
            )


class FakeLlmServer:
    """A fake LLM server on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, protocol: str, model: FakeModel | None = None):
        """`protocol` is "openai" or "gemini"."""
        self.model = model or FakeModel()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.protocol = {"openai": _OpenAI(), "gemini": _Gemini()}[protocol]
        self._server.model = self.model
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.protocol = protocol

    @property
    def base_url(self) -> str:
        """What a client is configured with (OpenAI: up to /v1)."""
        host, port = self._server.server_address[:2]
        root = f"http://{host}:{port}"
        return f"{root}/v1" if self.protocol == "openai" else root

    def __enter__(self) -> FakeLlmServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
