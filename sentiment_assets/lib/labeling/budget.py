"""A per-run ceiling on requests and tokens, shared by every worker thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass


class BudgetExhaustedError(RuntimeError):
    """No more requests may be sent in this run; the posts left are recorded as failed."""


@dataclass
class Budget:
    """At most `max_requests` requests and `max_tokens` tokens (in + out) per run; None = no cap.

    Tokens are only known after an answer, so the check is "stop once the cap is reached": the
    request that crosses it still completes and is counted.
    """

    max_requests: int | None = None
    max_tokens: int | None = None
    requests: int = 0
    tokens: int = 0

    def __post_init__(self) -> None:
        """Reject caps that cannot be met."""
        for name in ("max_requests", "max_tokens"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self._lock = threading.Lock()

    def acquire_request(self) -> None:
        """Reserve one request, or raise BudgetExhaustedError saying which cap was hit."""
        with self._lock:
            if self.max_requests is not None and self.requests >= self.max_requests:
                raise BudgetExhaustedError(
                    f"budget exhausted: max_requests={self.max_requests} requests already sent"
                )
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                raise BudgetExhaustedError(
                    f"budget exhausted: {self.tokens} tokens used, max_tokens={self.max_tokens}"
                )
            self.requests += 1

    def add_tokens(self, tokens: int) -> None:
        """Account for the tokens an answer used."""
        with self._lock:
            self.tokens += max(0, tokens)
