"""Open, write and time-travel the DuckLake lakehouse.

The catalog is a SQLite file (or PostgreSQL, see `location.py`), so several processes may read
and write at once; DuckLake
resolves most concurrent commits itself and we retry the rest (SQLite `database is locked`, a
logical conflict) with exponential backoff and jitter. Every commit carries a unique commit
message, which is how a writer learns the exact snapshot id its rows landed in.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from sentiment_assets.lib.lakehouse.errors import LakehouseError
from sentiment_assets.lib.lakehouse.integrity import damaged_file_in
from sentiment_assets.lib.lakehouse.location import LakeLocation
from sentiment_assets.lib.sql_text import sql_literal

T = TypeVar("T")

ALIAS = "lake"
KEY_GUARDS = "key_guards"
"""Schema of one-row tables, one per keyed table, that each keyed append rewrites (see `append`)."""
_RETRYABLE_FRAGMENTS = ("conflict", "database is locked", "busy", "lock on file")


@dataclass(frozen=True)
class Snapshot:
    """One committed version of the lakehouse."""

    snapshot_id: int
    snapshot_time: datetime
    commit_message: str | None


@dataclass(frozen=True)
class WriteResult:
    """What a write committed: rows added and the snapshot that holds them."""

    rows_written: int
    snapshot_id: int | None


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, duckdb.TransactionException):
        return True
    message = str(exc).lower()
    return any(fragment in message for fragment in _RETRYABLE_FRAGMENTS)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _guard_name(table: str) -> str:
    # Never the table's own name: lookups by table name alone must not find the guard.
    return f"{table}__key_guard"


def _guard_table(table: str) -> str:
    return f"{ALIAS}.{KEY_GUARDS}.{_quote_ident(_guard_name(table))}"


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, key: Sequence[str]
) -> int:
    """Insert `frame`'s rows whose key is not stored yet (all rows without a key)."""
    target = f"{ALIAS}.{_quote_ident(table)}"
    con.register("incoming", frame)
    try:
        con.execute(f"create table if not exists {target} as select * from incoming limit 0")
        source = "select * from incoming"
        if key:
            cols = ", ".join(_quote_ident(c) for c in key)
            match = " and ".join(
                f"t.{_quote_ident(c)} is not distinct from s.{_quote_ident(c)}" for c in key
            )
            source = (
                f"select * from incoming s where not exists "
                f"(select 1 from {target} t where {match}) "
                f"qualify row_number() over (partition by {cols}) = 1"
            )
        row = con.execute(f"insert into {target} by name {source}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.unregister("incoming")


class LakeSession:
    """One DuckDB connection with the lakehouse attached as `lake`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, max_retries: int, base_delay: float):
        """Wrap an attached connection; retries apply to `transaction`."""
        self.con = con
        self._max_retries = max_retries
        self._base_delay = base_delay

    def transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, message: str) -> T:
        """Run `work` in one transaction, retrying commit conflicts with backoff and jitter."""
        for attempt in range(self._max_retries + 1):
            try:
                self.con.execute("BEGIN TRANSACTION")
                self.con.execute(
                    f"CALL {ALIAS}.set_commit_message('maple-sentiment', {sql_literal(message)})"
                )
                result = work(self.con)
                self.con.execute("COMMIT")
                return result
            except duckdb.Error as exc:
                # A failed COMMIT has already ended the transaction, leaving nothing to undo.
                with contextlib.suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                if not _is_retryable(exc) or attempt == self._max_retries:
                    raise
                delay = self._base_delay * (2**attempt)
                time.sleep(delay + random.uniform(0, delay))
        raise AssertionError("unreachable: the loop returns or raises")

    def table_exists(self, table: str) -> bool:
        """Whether `table` exists in the lakehouse's main schema."""
        # dbt builds marts with the same names as nothing here today, but a mart named like a
        # pipeline table must never make a reader think the pipeline table exists.
        row = self.con.execute(
            "select count(*) from duckdb_tables() "
            "where database_name = ? and schema_name = 'main' and table_name = ?",
            [ALIAS, table],
        ).fetchone()
        return bool(row and row[0])

    def append(self, table: str, frame: pd.DataFrame, *, key: Sequence[str] = ()) -> WriteResult:
        """Append `frame` to `table`, creating it from the frame's schema on first write.

        With `key`, rows whose key is already stored (or repeated inside `frame`) are skipped,
        which makes re-running a batch a no-op instead of a duplicate. The check holds across
        processes too: DuckLake lets concurrent inserts into one table commit side by side
        (they never conflict), so two writers could both find a key missing and both store it.
        A keyed append therefore also rewrites the table's row in `key_guards`; two
        transactions that delete from the same table do conflict at commit, the loser's commit
        fails, and `transaction` runs it again, key check included, on the winner's snapshot.
        """
        return self.append_all([(table, frame, tuple(key))])[0]

    def append_all(
        self, parts: Sequence[tuple[str, pd.DataFrame, Sequence[str]]]
    ) -> list[WriteResult]:
        """Append several `(table, frame, key)` parts in one commit: all of them land or none.

        Each part follows the rules of `append`; a writer whose rows belong together (a post
        and its comments, say) uses this so a crash can never keep one without the other.
        """
        message = f"append {','.join(t for t, _, _ in parts)} {uuid.uuid4().hex}"
        for table in dict.fromkeys(t for t, _, key in parts if key):
            self._ensure_key_guard(table)

        def work(con: duckdb.DuckDBPyConnection) -> list[int]:
            written = [_insert(con, table, frame, key) for table, frame, key in parts]
            for table in dict.fromkeys(t for t, _, key in parts if key):
                guard = _guard_table(table)
                con.execute(f"delete from {guard}")
                con.execute(f"insert into {guard} values (?)", [message])
            return written

        written = self.transaction(work, message=message)
        snapshot_id = self.snapshot_for(message)
        return [WriteResult(rows_written=n, snapshot_id=snapshot_id) for n in written]

    def _ensure_key_guard(self, table: str) -> None:
        """Create `table`'s guard row once; concurrent creators conflict and retry like writes."""
        exists = self.con.execute(
            "select count(*) from duckdb_tables() "
            "where database_name = ? and schema_name = ? and table_name = ?",
            [ALIAS, KEY_GUARDS, _guard_name(table)],
        ).fetchone()
        if exists and exists[0]:
            return

        guard = _guard_table(table)
        steps = (
            f"create schema if not exists {ALIAS}.{KEY_GUARDS}",
            # Guard rows live in the catalog (inlined), not as two tiny Parquet files per write;
            # DuckLake takes the setting only for a schema that is already committed.
            f"call {ALIAS}.set_option('data_inlining_row_limit', 10, schema => '{KEY_GUARDS}')",
            # A delete of nothing is no change: the first keyed appends need a row to contend for.
            f"create table if not exists {guard} (token varchar); "
            f"insert into {guard} select 'created' where not exists (select 1 from {guard})",
        )
        for sql in steps:
            self.transaction(lambda con, sql=sql: con.execute(sql), message=f"key guard {table}")

    def snapshot_for(self, commit_message: str) -> int | None:
        """The snapshot committed with `commit_message`, or None if that commit changed nothing."""
        row = self.con.execute(
            f"select max(snapshot_id) from {ALIAS}.snapshots() where commit_message = ?",
            [commit_message],
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def query(self, sql: str, params: Sequence[object] | None = None) -> pd.DataFrame:
        """Run a read query; tables are reachable as `lake.<table>`."""
        return self.con.execute(sql, params or []).df()

    def read_table(self, table: str, *, snapshot_id: int | None = None) -> pd.DataFrame:
        """The whole `table`, now or as it was at `snapshot_id` (time travel)."""
        at = f" at (version => {int(snapshot_id)})" if snapshot_id is not None else ""
        return self.con.execute(f"select * from {ALIAS}.{_quote_ident(table)}{at}").df()

    def snapshots(self) -> list[Snapshot]:
        """Every committed snapshot, oldest first."""
        rows = self.con.execute(
            f"select snapshot_id, snapshot_time, commit_message from {ALIAS}.snapshots() "
            "order by snapshot_id"
        ).fetchall()
        return [Snapshot(int(r[0]), r[1], r[2]) for r in rows]

    def current_snapshot_id(self) -> int:
        """The newest committed snapshot: record it to pin the data version a model saw."""
        row = self.con.execute(f"select max(snapshot_id) from {ALIAS}.snapshots()").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def tables(self) -> list[str]:
        """Names of the lakehouse's own tables (schema main; dbt's schemas are not listed)."""
        rows = self.con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = ? and schema_name = 'main' order by 1",
            [ALIAS],
        ).fetchall()
        return [r[0] for r in rows]


class Lakehouse:
    """The lakehouse of a warehouse folder; its catalog and data path come from `LakeLocation`.

    By default `catalog.sqlite` plus Parquet files under `data/`; the scale-out settings move
    the catalog to PostgreSQL and the data files to S3-compatible storage (see `location.py`).
    """

    def __init__(
        self,
        root: Path,
        *,
        location: LakeLocation | None = None,
        max_retries: int = 10,
        base_delay: float = 0.05,
    ):
        """Point at `root`; the location defaults to what the environment selects for it."""
        self.root = Path(root)
        self.location = location or LakeLocation.from_env(self.root)
        self.catalog_path = self.location.sqlite_catalog
        self.data_path = self.location.local_data or self.root / "data"
        self.max_retries = max_retries
        self.base_delay = base_delay

    def _check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            local_data = self.location.local_data
            if local_data is not None:
                local_data.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise LakehouseError(
                f"The warehouse folder {self.root} is not writable ({exc.strerror or exc}). "
                "Fix its permissions, or set SENTIMENT_WAREHOUSE to a writable folder."
            ) from exc

    def exists(self) -> bool:
        """Whether the lakehouse was ever created (readers check before opening it)."""
        return self.location.catalog_exists()

    def attach_sql(self) -> str:
        """The ATTACH statement other tools (dbt, ad-hoc SQL) can use to open this lakehouse.

        Run `location.prepare(con)` first: it loads the extensions and creates the secrets.
        """
        return self.location.attach_sql(ALIAS)

    def _attach(self, con: duckdb.DuckDBPyConnection) -> None:
        for attempt in range(self.max_retries + 1):
            try:
                con.execute(self.attach_sql())
                return
            except duckdb.Error as exc:
                # Two processes creating a new catalog race on its first tables, before the
                # busy timeout is in force: the loser sees "database is locked", or, when the
                # lock hit DuckLake's probe of the catalog, only the transaction it aborted
                # ("Failed to probe DuckLake metadata: Current transaction is aborted"). Both
                # leave nothing attached, so the ATTACH can be tried again.
                message = str(exc).lower()
                racing = (
                    "locked" in message
                    or "busy" in message
                    or isinstance(exc, duckdb.TransactionException)
                )
                if not racing or attempt == self.max_retries:
                    raise LakehouseError(
                        f"Could not open the lakehouse ({self.location.describe()}): {exc}"
                    ) from exc
                delay = self.base_delay * (2**attempt)
                time.sleep(delay + random.uniform(0, delay))

    @contextmanager
    def session(self) -> Iterator[LakeSession]:
        """Open a connection with the lakehouse attached; closed on exit."""
        self._check_writable()
        con = duckdb.connect(
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        try:
            self.location.prepare(con)
            self._attach(con)
            yield LakeSession(con, max_retries=self.max_retries, base_delay=self.base_delay)
        except duckdb.Error as exc:
            # A damaged data file fails deep inside DuckDB; say which file, table and fix.
            damaged = damaged_file_in(exc)
            if damaged is None:
                raise
            raise damaged from exc
        finally:
            con.close()

    def append(self, table: str, frame: pd.DataFrame, *, key: Sequence[str] = ()) -> WriteResult:
        """Append in a session of its own; see `LakeSession.append`."""
        with self.session() as lake:
            return lake.append(table, frame, key=key)

    def current_snapshot_id(self) -> int:
        """See `LakeSession.current_snapshot_id`."""
        with self.session() as lake:
            return lake.current_snapshot_id()
