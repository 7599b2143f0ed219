"""Transport-level retries: how long to wait before sending a failed request again.

A server that says how long to wait (429/503 `Retry-After`, OpenAI's `retry-after-ms`, Gemini's
`RetryInfo.retryDelay`) is obeyed, up to `max_delay_s`; otherwise the wait grows exponentially
with full jitter so concurrent workers do not retry in lock-step.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from sentiment_assets.lib.labeling.errors import ProviderError

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_DURATION = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?)\s*s\s*$")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request."""

    max_retries: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay_s)
        ceiling = min(self.base_delay_s * (2**retry), self.max_delay_s)
        return random.uniform(0, ceiling)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for, from `retry-after-ms` or `Retry-After` (seconds or a date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_gemini_retry_delay(error_json: Any) -> float | None:
    """`retryDelay` ("23s", "0.5s") from a Google RPC error's RetryInfo detail, if present."""
    error = error_json.get("error", error_json) if isinstance(error_json, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict) or not str(detail.get("@type", "")).endswith("RetryInfo"):
            continue
        match = _DURATION.match(str(detail.get("retryDelay", "")))
        if match:
            return float(match.group("value"))
    return None


def call_with_retries(
    send: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[ProviderError, float], None] | None = None,
    before_send: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `send` until it succeeds, raises a non-retryable error, or retries run out.

    `before_send` runs before every try (the budget check lives there, so retries are paid for
    too) and may raise to stop. The last `ProviderError` is re-raised when retries run out.
    """
    for retry in range(policy.max_retries + 1):
        if before_send is not None:
            before_send()
        try:
            return send()
        except ProviderError as exc:
            if not exc.retryable or retry == policy.max_retries:
                raise
            wait = policy.delay(retry, exc.retry_after)
            if on_retry is not None:
                on_retry(exc, wait)
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")
