"""The feedback store's SQLite connection: one per thread, WAL, and write transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sentiment_assets.lib.feedback.schema import SCHEMA, SCHEMA_VERSION, migrate


def default_path(warehouse: Path) -> Path:
    """Where the store lives by default: beside the lake catalog, never inside it."""
    return warehouse / "feedback.sqlite"


def now() -> str:
    """The store's timestamp format: UTC ISO 8601 to the microsecond."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class StoreConnection:
    """The SQLite file of the store; safe to share between threads and processes."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0):
        """Open (creating if needed) the store at `path`."""
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # executescript manages its own transaction; IMMEDIATE serialises racing creators.
        self._connect().executescript(f"begin immediate;{SCHEMA}commit;")
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store written by an older version up to `SCHEMA_VERSION`, once per file."""
        con = self._connect()
        if int(con.execute("pragma user_version").fetchone()[0]) >= SCHEMA_VERSION:
            return
        with self._write() as con:
            # Checked again under the write lock: another process may have migrated meanwhile.
            migrate(con)

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE below.
            con = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode = wal")
            # FULL syncs every commit: a correction acknowledged to a reviewer survives a crash.
            con.execute("pragma synchronous = full")
            con.execute(f"pragma busy_timeout = {int(self.busy_timeout_s * 1000)}")
            con.execute("pragma foreign_keys = on")
            self._local.con = con
        return con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def journal_mode(self) -> str:
        """The SQLite journal mode in force ("wal")."""
        return str(self._connect().execute("pragma journal_mode").fetchone()[0])
