"""Copy the dbt marts out of the lakehouse into a read-only DuckDB file for readers.

Dashboards and ad-hoc SQL read `warehouse/marts.duckdb`, never the lakehouse itself, so a
reader can neither block a pipeline writer nor see a half-built mart. The copy is written to a
temporary file in the same folder and renamed over the old one (atomic on POSIX): a reader that
opened the old file keeps reading it, the next reader opens the new one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sentiment_assets.lib.lakehouse import Lakehouse, LakehouseError
from sentiment_assets.lib.sql_text import sql_literal

MARTS_SCHEMA = "marts"
EXPORT_INFO_TABLE = "export_info"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: rows per mart, and the lakehouse snapshot they were read at."""

    path: Path
    rows_by_table: dict[str, int]
    snapshot_id: int


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_marts(lake: Lakehouse, target: Path, *, schema: str = MARTS_SCHEMA) -> ExportResult:
    """Copy every table of `lake.<schema>` into the DuckDB file `target`, replacing it atomically.

    All tables are read in one transaction, so they come from one lakehouse snapshot. The file
    also gets an `export_info` table (snapshot id, export time) so readers can tell its age.

    Raises:
        LakehouseError: the lakehouse has no tables in `schema` (dbt has not built the marts).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    try:
        with lake.session() as session:
            con = session.con
            con.execute(f"attach {sql_literal(str(partial))} as export")
            con.execute("begin transaction")
            tables = [
                row[0]
                for row in con.execute(
                    "select table_name from duckdb_tables() "
                    "where database_name = 'lake' and schema_name = ? order by 1",
                    [schema],
                ).fetchall()
            ]
            if not tables:
                raise LakehouseError(
                    f"The lakehouse at {lake.root} has no tables in schema {schema!r}: build "
                    "the marts first (materialize the dbt assets, or `dbt build` in dbt_project/)."
                )
            snapshot_id = session.current_snapshot_id()
            rows_by_table = {}
            for table in tables:
                con.execute(
                    f"create table export.main.{_ident(table)} as "
                    f"select * from lake.{_ident(schema)}.{_ident(table)}"
                )
                counted = con.execute(
                    f"select count(*) from export.main.{_ident(table)}"
                ).fetchone()
                rows_by_table[table] = int(counted[0]) if counted else 0
            con.execute(
                f"create table export.main.{EXPORT_INFO_TABLE} as select "
                "cast(? as bigint) as lake_snapshot_id, now() as exported_at, "
                "cast(? as integer) as tables",
                [snapshot_id, len(tables)],
            )
            con.execute("commit")
            # Detaching checkpoints the file, so the renamed copy needs no WAL beside it.
            con.execute("detach export")
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        with contextlib.suppress(FileNotFoundError):
            partial.with_name(partial.name + ".wal").unlink()
        raise
    return ExportResult(path=target, rows_by_table=rows_by_table, snapshot_id=snapshot_id)
