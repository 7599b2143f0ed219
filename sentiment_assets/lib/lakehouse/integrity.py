"""Damaged Parquet files in the lakehouse: named, with the table they hold rows of and the fix.

A data file cut short (a full disk, a bad copy, a hand edit) makes DuckDB fail deep inside a
query with a message about footers or magic bytes. The catalog still lists the file, so its rows
are not gone: they come back as soon as the file is restored from a backup. Until then every
step that reads the table stops; this module turns that failure into an error that says which
file, which table, and what to do, and lists every damaged file on request:

    python -m sentiment_assets.lib.lakehouse.integrity [WAREHOUSE]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from sentiment_assets.lib.lakehouse.errors import LakehouseError

_PARQUET_PATH = re.compile(r"'([^']+\.parquet)'")
_DAMAGE = re.compile(
    r"footer|magic bytes|too small|corrupt|invalid parquet|not a parquet|truncated|"
    r"could not read|unexpected end|out of range",
    re.IGNORECASE,
)
HOW_TO_LIST = "python -m sentiment_assets.lib.lakehouse.integrity"


@dataclass(frozen=True)
class DamagedFile:
    """One data file the catalog lists but DuckDB cannot read."""

    path: str
    table: str
    error: str


class DamagedDataFile(LakehouseError):
    """A step stopped on a damaged data file; nothing it meant to write was written."""

    def __init__(self, damaged: DamagedFile):
        """Say which file, which table, and how to get the rows back."""
        super().__init__(
            f"The lakehouse data file {damaged.path} (table {damaged.table}) is damaged: "
            f"{damaged.error}. Nothing was written by this step. The catalog still lists the "
            f"file, so its rows come back once it is restored from a backup (same path); until "
            f"then every step reading {damaged.table} stops here. `{HOW_TO_LIST}` lists every "
            "damaged file."
        )
        self.damaged = damaged


def _table_of(path: str) -> str:
    # DuckLake writes a table's files under <data path>/<schema>/<table>/.
    parts = PurePosixPath(path).parts
    return ".".join(parts[-3:-1]) if len(parts) >= 3 else "unknown"


def damaged_file_in(exc: BaseException) -> DamagedDataFile | None:
    """The clear error for `exc` when it is DuckDB failing on a damaged Parquet file, else None."""
    if not isinstance(exc, duckdb.Error):
        return None
    message = str(exc)
    found = _PARQUET_PATH.search(message)
    if found is None or not _DAMAGE.search(message):
        return None
    path = found.group(1)
    first_line = message.strip().splitlines()[0] if message.strip() else message
    return DamagedDataFile(DamagedFile(path=path, table=_table_of(path), error=first_line))


def damaged_files(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> list[DamagedFile]:
    """Every data file of every table in the attached lakehouse `alias` that cannot be read."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ?", [alias]
    ).fetchall()
    damaged = []
    for schema, table in tables:
        files = con.execute(
            "select data_file from ducklake_list_files(?, ?, schema => ?)", [alias, table, schema]
        ).fetchall()
        for (path,) in files:
            try:
                con.execute("select count(*) from parquet_metadata(?)", [path]).fetchall()
            except duckdb.Error as exc:
                damaged.append(DamagedFile(str(path), f"{schema}.{table}", str(exc).strip()))
    return damaged


def main(argv: list[str]) -> int:
    """Print the damaged files of a warehouse (default: SENTIMENT_WAREHOUSE); 1 if any."""
    from sentiment_assets.lib.lakehouse.lake import Lakehouse
    from sentiment_assets.lib.settings import Paths

    root = Path(argv[0]) if argv else Paths.from_env().warehouse
    with Lakehouse(root).session() as session:
        found = damaged_files(session.con)
    for damaged in found:
        print(f"{damaged.table}\t{damaged.path}\t{damaged.error}")
    print(f"{len(found)} damaged data files in {root}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
