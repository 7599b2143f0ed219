"""The replay site's HTTP server: stdlib, threaded, on 127.0.0.1 and a free port by default.

An `intercept` hook lets tests (and anyone rehearsing failures) answer any request differently:
an error status, a delay longer than the client's timeout, a body cut short on the wire, or
different HTML. Every request is logged with its time, which is how tests and the benchmark
prove the crawler's politeness from the server's side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sentiment_assets.lib.crawl.replay.corpus import SiteClock, SyntheticCorpus
from sentiment_assets.lib.crawl.replay.sources import Rendered, SiteSource, SyntheticSite
from sentiment_assets.lib.crawl.urls import ARTICLE_PATH, COMMENTS_PATH, LIST_PATH, ROBOTS_PATH


@dataclass(frozen=True)
class ReplayRequest:
    """A request as the intercept hook sees it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    seen: int
    """How many times this method + path + query has been asked for, this one included."""

    @property
    def target(self) -> str:
        """Path with query, as requested."""
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(self.query.items()))


@dataclass(frozen=True)
class ReplayResponse:
    """A response chosen by an intercept hook."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Wait this long before answering (longer than the client timeout = a timeout)."""
    truncate_to: int | None = None
    """Announce the full Content-Length but send only this many bytes, then hang up."""


@dataclass(frozen=True)
class ServedRequest:
    """One request as served, for politeness checks."""

    at: float
    """time.monotonic() when the request arrived."""
    method: str
    target: str
    status: int
    user_agent: str


Intercept = Callable[[ReplayRequest], ReplayResponse | None]


class ReplayServer:
    """Serve a `SiteSource` over real HTTP until stopped."""

    def __init__(
        self,
        source: SiteSource,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        intercept: Intercept | None = None,
    ):
        """Bind the socket now (so the port is known); serving starts with `start()`."""
        self.source = source
        self.intercept = intercept
        self.served: list[ServedRequest] = []
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReplayServer:
        """Serve in a background thread."""
        # A short poll interval makes stop() return in ~50 ms instead of the default 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="replay-site", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread (the `sentiment replay-site` command) until interrupted."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        """Start on entry."""
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        """Stop on exit."""
        self.stop()

    def served_matching(self, fragment: str) -> list[ServedRequest]:
        """Served requests whose target contains `fragment`."""
        with self._lock:
            return [r for r in self.served if fragment in r.target]

    # ---- request handling ----------------------------------------------------------------------
    def _count(self, method: str, target: str) -> int:
        with self._lock:
            key = (method, target)
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def _log(self, record: ServedRequest) -> None:
        with self._lock:
            self.served.append(record)

    def _route(self, request: ReplayRequest) -> Rendered | None:
        source = self.source
        if request.method == "POST":
            if request.path != COMMENTS_PATH:
                return None
            board, post = request.form.get("comeidx", ""), request.form.get("articlecode", "")
            if not (board.isdigit() and post.isdigit()):
                return None
            return source.comments(int(board), int(post))
        if request.path == ROBOTS_PATH:
            return source.robots()
        if request.path in ("", "/"):
            return source.index()
        if match := LIST_PATH.match(request.path):
            page = request.query.get("p", "1")
            view = request.query.get("my") or None
            return source.list_page(int(match.group(1)), int(page) if page.isdigit() else 1, view)
        if match := ARTICLE_PATH.match(request.path):
            return source.article(int(match.group(1)), int(match.group(2)))
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real sites and httpx use it
            # Headers and body go out in separate writes; with Nagle on, each keep-alive
            # response would stall ~40 ms on the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: requests are recorded in `served` instead."""

            def do_GET(self) -> None:
                self._handle("GET", {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                self._handle("POST", form)

            def _handle(self, method: str, form: dict[str, str]) -> None:
                arrived = time.monotonic()
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                probe = ReplayRequest(method, parts.path, query, form, 0)
                request = ReplayRequest(
                    method, parts.path, query, form, server._count(method, probe.target)
                )
                answer = server.intercept(request) if server.intercept else None
                if answer is None:
                    try:
                        rendered = server._route(request)
                    except Exception as exc:  # a bug in a source must not kill the server
                        body = f"replay site error: {type(exc).__name__}: {exc}".encode()
                        answer = ReplayResponse(500, body, "text/plain; charset=utf-8")
                    else:
                        answer = (
                            ReplayResponse(404, b"<html><body>not found</body></html>")
                            if rendered is None
                            else ReplayResponse(200, rendered.body, rendered.content_type)
                        )
                server._log(
                    ServedRequest(
                        arrived,
                        method,
                        request.target,
                        answer.status,
                        self.headers.get("User-Agent", ""),
                    )
                )
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                self._send(answer)

            def _send(self, answer: ReplayResponse) -> None:
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if answer.truncate_to is not None:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    body = answer.body
                    if answer.truncate_to is not None:
                        body = body[: answer.truncate_to]
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (its timeout fired first): nothing left to answer.
                    self.close_connection = True

        return Handler


def synthetic_site(
    *,
    initial_posts: int = 360,
    seed: int = 7,
    new_post_every_s: float = 20.0,
    max_posts: int | None = None,
    start: datetime | None = None,
    page_size: int = 25,
    encodings: dict[int, str] | None = None,
) -> SyntheticSite:
    """A synthetic site on real (Korean) time whose corpus began at `start` (default: now)."""
    from sentiment_assets.lib.crawl.records import KST

    now = datetime.now(KST).replace(tzinfo=None, microsecond=0)
    begin = start or now
    corpus = SyntheticCorpus(
        start=begin,
        seed=seed,
        initial_posts=initial_posts,
        new_post_every_s=new_post_every_s,
        max_posts=max_posts,
    )
    # The clock shows real time; an earlier `start` means the posts since then already exist.
    return SyntheticSite(
        corpus, SiteClock(now), page_size=page_size, encodings=dict(encodings or {})
    )


@contextmanager
def serve(source: SiteSource, *, intercept: Intercept | None = None) -> Iterator[ReplayServer]:
    """Run a replay server on a free local port for the duration of a `with` block."""
    server = ReplayServer(source, intercept=intercept)
    with server:
        yield server
