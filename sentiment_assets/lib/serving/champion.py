"""The serving model: loaded once, swapped atomically when a newer version appears.

The hot path costs at most one `stat` of the ensemble folder per check interval: a new version
is renamed into that folder, and every move of the registry's champion alias (a promotion or a
rollback) rewrites `ensemble/.champion.json` there, either of which changes its modification
time. The new model is loaded in a
background thread while requests keep using the old one, then a single reference assignment
makes it current. A version that fails to load leaves the old champion serving and is reported
by /health.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentiment_assets.lib.models.base import ModelLoadError

log = logging.getLogger(__name__)


class ChampionHolder:
    """Holds the current model and replaces it when the models folder changes."""

    def __init__(
        self,
        models_root: Path,
        *,
        load: Callable[[Path], Any],
        watch: Path,
        check_interval_s: float = 1.0,
    ):
        """Load the current model now (if any); `watch` is the folder new versions land in."""
        self.models_root = models_root
        self._load = load
        self._watch = watch
        self._interval = check_interval_s
        self._model: Any = None
        self.error: str | None = None
        self._seen_mtime: int | None = None
        self._next_check = 0.0
        self._reloading = threading.Lock()
        self._reload_now()

    @property
    def model(self) -> Any:
        """The current model, or None when no version could be loaded yet."""
        return self._model

    def _mtime(self) -> int | None:
        try:
            return self._watch.stat().st_mtime_ns
        except OSError:
            return None

    def _reload_now(self) -> None:
        mtime = self._mtime()
        try:
            model = self._load(self.models_root)
        except ModelLoadError as exc:
            self.error = str(exc)
            log.warning("champion not (re)loaded: %s", exc)
        else:
            self._model = model
            self.error = None
            log.info("serving model version %s", getattr(model, "version", "?"))
        self._seen_mtime = mtime

    def _reload_in_background(self) -> None:
        try:
            self._reload_now()
        finally:
            self._reloading.release()

    def current(self) -> Any:
        """The model to answer this request with; may start a background reload."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._interval
            if self._mtime() != self._seen_mtime and self._reloading.acquire(blocking=False):
                threading.Thread(target=self._reload_in_background, daemon=True).start()
        return self._model

    def wait_for_reload(self, timeout_s: float = 30.0) -> None:
        """Block until no reload is running (for tests and orderly shutdown)."""
        if self._reloading.acquire(timeout=timeout_s):
            self._reloading.release()
