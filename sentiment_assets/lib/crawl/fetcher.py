"""A polite HTTP client: identifying User-Agent, robots.txt, a per-host delay, careful retries.

httpx's own transport retries cover connection setup only; timeouts after the request went
out, 429 and 5xx answers are retried here with exponential backoff and jitter, and a server's
`Retry-After` is honoured (and also delays every later request to that host). The client is
single-threaded by design: politeness means one request at a time per host anyway.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from sentiment_assets.lib.crawl.decoding import decode_page
from sentiment_assets.lib.crawl.robots import RobotsRules
from sentiment_assets.lib.crawl.urls import robots_url

PRODUCT_TOKEN = "maple-sentiment"
DEFAULT_USER_AGENT = (
    f"{PRODUCT_TOKEN}/0.1 (community sentiment research crawler; "
    "polite: honours robots.txt, 1 request/s per host)"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Politeness:
    """How gently to treat a host."""

    user_agent: str = DEFAULT_USER_AGENT
    delay_s: float = 1.0
    """Least time between the end of one request and the start of the next to the same host."""
    timeout_s: float = 10.0
    max_retries: int = 3
    backoff_s: float = 1.0
    """First retry waits up to this long; each further retry doubles it (with jitter)."""
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 300.0
    """A Retry-After longer than this makes the page fail now instead of stalling the run."""
    obey_robots: bool = True


@dataclass(frozen=True)
class Page:
    """A successfully fetched page."""

    url: str
    status: int
    content: bytes
    text: str
    encoding: str
    content_type: str
    attempts: int


class FetchError(Exception):
    """A page could not be fetched; `status` and `content` are kept so a copy can be saved."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        content: bytes | None = None,
        attempts: int = 1,
        retryable: bool = False,
    ):
        """Describe the failure of one page."""
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        self.status = status
        self.content = content
        self.attempts = attempts
        self.retryable = retryable
        """Whether trying again later could help (timeouts, 429, 5xx), unlike a 404."""

    def __str__(self) -> str:
        """The reason and the URL."""
        return f"{self.reason} ({self.url})"


class RobotsDisallowed(FetchError):
    """robots.txt forbids the URL, or could not be read (then everything is forbidden)."""


@dataclass(frozen=True)
class RequestRecord:
    """One request on the wire, for logs, metadata and the politeness benchmark."""

    started: float
    finished: float
    method: str
    url: str
    status: int | None


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class _HostGate:
    ready_at: float = 0.0


@dataclass
class PoliteClient:
    """Fetch pages politely; see the module docstring.

    Args:
        politeness: delays, timeouts and retry limits.
        transport: an httpx transport (tests may pass one; defaults to the network).
        sleep, clock, rng: injectable for deterministic tests of backoff arithmetic.
    """

    politeness: Politeness = field(default_factory=Politeness)
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    requests: list[RequestRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Open the underlying httpx client."""
        self._client = httpx.Client(
            headers={
                "User-Agent": self.politeness.user_agent,
                "Accept-Language": "ko-KR,ko;q=0.9",
            },
            timeout=httpx.Timeout(self.politeness.timeout_s),
            follow_redirects=False,
            transport=self.transport,
        )
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotsRules] = {}

    def __enter__(self) -> PoliteClient:
        """Use as a context manager to close connections at the end."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close connections."""
        self.close()

    def close(self) -> None:
        """Close connections."""
        self._client.close()

    # ---- politeness ----------------------------------------------------------------------------
    def _gate(self, url: str) -> _HostGate:
        return self._gates.setdefault(urlsplit(url).netloc.lower(), _HostGate())

    def _delay_for(self, url: str) -> float:
        robots = self._robots.get(urlsplit(url).netloc.lower())
        crawl_delay = robots.crawl_delay if robots and robots.crawl_delay else 0.0
        return max(self.politeness.delay_s, crawl_delay)

    def _wait_turn(self, url: str) -> None:
        wait = self._gate(url).ready_at - self.clock()
        if wait > 0:
            self.sleep(wait)

    def robots(self, url: str) -> RobotsRules:
        """The robots.txt rules of `url`'s host, fetched once per host.

        A 4xx answer means no rules; a 5xx answer or an unreachable host means everything is
        disallowed until a later run can read the file (RFC 9309 2.3.1).
        """
        host = urlsplit(url).netloc.lower()
        if host not in self._robots:
            scheme = urlsplit(url).scheme or "https"
            try:
                page = self._send("GET", robots_url(f"{scheme}://{host}"), obey_robots=False)
                rules = RobotsRules.parse(page.text, PRODUCT_TOKEN)
            except FetchError as exc:
                if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                    rules = RobotsRules.allow_all()
                else:
                    rules = RobotsRules.disallow_all(f"robots.txt unreachable: {exc.reason}")
            self._robots[host] = rules
        return self._robots[host]

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch `url` (always true when robots are not obeyed)."""
        return not self.politeness.obey_robots or self.robots(url).allowed(url)

    # ---- requests ------------------------------------------------------------------------------
    def get(self, url: str) -> Page:
        """GET a page politely.

        Raises:
            RobotsDisallowed: robots.txt forbids it (nothing is sent).
            FetchError: the page failed for good (after retries where retrying makes sense).
        """
        self._check_robots(url)
        return self._send("GET", url)

    def post_form(self, url: str, form: Mapping[str, str], *, referer: str | None = None) -> Page:
        """POST a form (the comment endpoint) politely; same errors as `get`."""
        self._check_robots(url)
        headers = {"Accept": "application/json, text/javascript, */*"}
        if referer:
            headers["Referer"] = referer
        return self._send("POST", url, data=dict(form), headers=headers)

    def _check_robots(self, url: str) -> None:
        if not self.politeness.obey_robots:
            return
        rules = self.robots(url)
        if not rules.allowed(url):
            reason = rules.unreachable or "disallowed by robots.txt"
            raise RobotsDisallowed(url, reason, attempts=0)

    def back_off(self, url: str, attempt: int) -> None:
        """Make the next request to `url`'s host wait one backoff step.

        A page that came back unusable (cut short, a maintenance page) is asked for again no
        sooner than a failed request would be.
        """
        gate = self._gate(url)
        gate.ready_at = max(gate.ready_at, self.clock() + self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.politeness.max_backoff_s, self.politeness.backoff_s * 2**attempt)
        # "Equal jitter": at least half the exponential step, so retries still spread out.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def _send(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        obey_robots: bool = True,
    ) -> Page:
        # Redirects are followed here rather than by httpx, so every hop waits its turn at the
        # host and is checked against robots.txt like any other request.
        target = url
        for _hop in range(MAX_REDIRECTS + 1):
            response, attempts = self._with_retries(method, target, data=data, headers=headers)
            location = response.headers.get("location")
            if not (response.is_redirect and location):
                content_type = response.headers.get("content-type", "")
                text, encoding = decode_page(response.content, content_type)
                return Page(
                    url=target,
                    status=response.status_code,
                    content=response.content,
                    text=text,
                    encoding=encoding,
                    content_type=content_type,
                    attempts=attempts,
                )
            target = urljoin(target, location)
            if method == "POST" and response.status_code in (301, 302, 303):
                method, data = "GET", None
            if obey_robots:
                self._check_robots(target)
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects (last: {target})")

    def _with_retries(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[httpx.Response, int]:
        """One request with retries; returns a 2xx or 3xx response and the attempts it took."""
        gate = self._gate(url)
        last: FetchError | None = None
        attempts = self.politeness.max_retries + 1
        for attempt in range(attempts):
            self._wait_turn(url)
            started = self.clock()
            response: httpx.Response | None = None
            retry_after: float | None = None
            try:
                response = self._client.request(method, url, data=data, headers=headers)
            except httpx.TimeoutException as exc:
                last = FetchError(
                    url, f"timeout: {type(exc).__name__}", attempts=attempt + 1, retryable=True
                )
            except httpx.TransportError as exc:
                last = FetchError(
                    url,
                    f"transport error: {type(exc).__name__}: {exc}",
                    attempts=attempt + 1,
                    retryable=True,
                )
            except httpx.RequestError as exc:
                # Undecodable content encodings and the like: asking again will not help.
                raise FetchError(
                    url, f"request error: {type(exc).__name__}: {exc}", attempts=attempt + 1
                ) from exc
            finally:
                finished = self.clock()
                status = response.status_code if response is not None else None
                self.requests.append(RequestRecord(started, finished, method, url, status))
                gate.ready_at = max(gate.ready_at, finished + self._delay_for(url))
            if response is not None:
                status = response.status_code
                if status < 400:
                    return response, attempt + 1
                retryable = status in RETRY_STATUSES or status >= 500
                last = FetchError(
                    url,
                    f"HTTP {status}",
                    status=status,
                    content=response.content,
                    attempts=attempt + 1,
                    retryable=retryable,
                )
                if not retryable:
                    raise last
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
                if retry_after is not None and retry_after > self.politeness.max_retry_after_s:
                    last.reason = (
                        f"HTTP {status} with Retry-After {retry_after:.0f} s "
                        f"(over the {self.politeness.max_retry_after_s:.0f} s limit)"
                    )
                    gate.ready_at = max(gate.ready_at, finished + retry_after)
                    raise last
            if attempt + 1 == attempts:
                break
            wait = self._backoff(attempt)
            if retry_after is not None:
                wait = max(wait, retry_after)
            gate.ready_at = max(gate.ready_at, self.clock() + wait)
        assert last is not None
        if last.attempts > 1:
            last.reason = f"{last.reason} after {last.attempts} attempts"
        raise last
