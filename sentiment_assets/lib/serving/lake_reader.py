"""The API's way into the lake: one kept reader connection, and a short-lived queue cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.serving.schemas import ReviewQueue


class LakeReader:
    """One reader connection to the lake, reused for a while, then reopened.

    Attaching the lake (loading extensions, reading the catalog) costs far more than a query,
    and each query is its own transaction, so a kept connection still sees new snapshots. DuckDB
    connections are not for concurrent use: requests take turns on it.
    """

    def __init__(self, lakehouse: Lakehouse, ttl_s: float = 60.0):
        self._lakehouse = lakehouse
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._session: LakeSession | None = None
        self._opened = 0.0

    def _close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._session = None, None

    def run(self, work: Callable[[LakeSession], Any]) -> Any:
        """`work(session)` on the kept connection; a failed connection is dropped."""
        with self._lock:
            if self._session is None or time.monotonic() - self._opened > self._ttl:
                self._close()
                stack = ExitStack()
                self._session = stack.enter_context(self._lakehouse.session())
                self._stack, self._opened = stack, time.monotonic()
            try:
                return work(self._session)
            except Exception:
                self._close()
                raise


class QueueCache:
    """Review-queue answers reused for a few seconds, dropped when a review is recorded."""

    def __init__(self, ttl_s: float):
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[float, ReviewQueue]] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], ReviewQueue]) -> ReviewQueue:
        """The cached answer for `key`, else `compute()`'s, kept for the time to live."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit and hit[0] > now:
            return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now + self._ttl, value)
        return value

    def clear(self) -> None:
        """Forget every answer (a review changed what the queue holds)."""
        with self._lock:
            self._entries.clear()
