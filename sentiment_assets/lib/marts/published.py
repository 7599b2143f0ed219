"""The marts export on object storage, for readers on other machines.

Locally, readers open `warehouse/marts.duckdb`. When the lakehouse keeps its data on S3, that
file sits on whichever machine ran `marts_export`, so the export is also published to object
storage: one Parquet file per mart under `<marts url>/<export id>/`, then `latest.parquet`
naming that export (written last, so a reader never sees half an export). Readers anywhere call
`marts_file()`, which returns the local file, refreshed from object storage when the lakehouse
is on S3. `SENTIMENT_MARTS_EXPORT` chooses the place; by default it sits beside the lakehouse's
data prefix (`s3://bucket/lake/` -> `s3://bucket/lake-marts/`), never inside it, where
DuckLake's own file cleanup could take it for an orphan.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sentiment_assets.lib.lakehouse import LakehouseError
from sentiment_assets.lib.lakehouse.extensions import load_extensions
from sentiment_assets.lib.lakehouse.location import LakeLocation
from sentiment_assets.lib.scaleout.object_store import split_s3_url
from sentiment_assets.lib.scaleout.postgres_url import SettingsError
from sentiment_assets.lib.sql_text import sql_literal

MARTS_EXPORT = "SENTIMENT_MARTS_EXPORT"
EXPORT_FILE = "marts.duckdb"
MANIFEST = "latest.parquet"


@dataclass(frozen=True)
class PublishedExport:
    """One export on object storage."""

    url: str
    export_id: str
    tables: tuple[str, ...]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_url(location: LakeLocation) -> str | None:
    """Where the marts are published, or None when the lakehouse is local (nothing to publish).

    Raises:
        LakehouseError: SENTIMENT_MARTS_EXPORT is not an s3:// URL.
    """
    if location.object_store is None or location.data_url is None:
        return None
    raw = os.environ.get(MARTS_EXPORT, "").strip()
    if not raw:
        raw = location.data_url.rstrip("/") + "-marts/"
    try:
        bucket, prefix = split_s3_url(raw, variable=MARTS_EXPORT)
    except SettingsError as exc:
        raise LakehouseError(str(exc)) from exc
    return f"s3://{bucket}/{prefix}"


def _connect(location: LakeLocation) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    load_extensions(con, ("httpfs",))
    assert location.object_store is not None
    con.execute(location.object_store.duckdb_secret_sql())
    return con


def publish(export_file: Path, location: LakeLocation) -> PublishedExport | None:
    """Copy every table of the local export to object storage; None when the lake is local."""
    url = export_url(location)
    if url is None:
        return None
    export_id = uuid.uuid4().hex
    con = _connect(location)
    try:
        con.execute(f"attach {sql_literal(str(export_file))} as export (read_only)")
        tables = tuple(
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'export' and schema_name = 'main' order by 1"
            ).fetchall()
        )
        for table in tables:
            con.execute(
                f"copy (select * from export.main.{_ident(table)}) "
                f"to {sql_literal(f'{url}{export_id}/{table}.parquet')} (format parquet)"
            )
        listing = ", ".join(f"({sql_literal(t)})" for t in tables) or "(null)"
        con.execute(
            f"copy (select {sql_literal(export_id)} as export_id, now() as published_at, "
            "t.table_name "
            f"from (values {listing}) t(table_name) where t.table_name is not null) "
            f"to {sql_literal(url + MANIFEST)} (format parquet)"
        )
    finally:
        con.close()
    return PublishedExport(url=url, export_id=export_id, tables=tables)


def latest(location: LakeLocation) -> PublishedExport:
    """The newest published export.

    Raises:
        LakehouseError: the lake is local, or nothing was published yet.
    """
    url = export_url(location)
    if url is None:
        raise LakehouseError("the lakehouse is local: its marts are in the warehouse folder")
    con = _connect(location)
    try:
        rows = con.execute(
            "select export_id, table_name "
            f"from read_parquet({sql_literal(url + MANIFEST)}) order by 2"
        ).fetchall()
    except duckdb.Error as exc:
        raise LakehouseError(
            f"No marts export at {url} ({exc}): materialize marts_export first."
        ) from exc
    finally:
        con.close()
    if not rows:
        raise LakehouseError(f"The marts export at {url} lists no tables")
    return PublishedExport(url=url, export_id=rows[0][0], tables=tuple(r[1] for r in rows))


def fetch(location: LakeLocation, target: Path) -> PublishedExport:
    """Download the newest published export into the DuckDB file `target` (atomic replace)."""
    export = latest(location)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    con = _connect(location)
    try:
        con.execute(f"attach {sql_literal(str(partial))} as local")
        for table in export.tables:
            source = f"{export.url}{export.export_id}/{table}.parquet"
            con.execute(
                f"create table local.main.{_ident(table)} as "
                f"select * from read_parquet({sql_literal(source)})"
            )
        con.execute("detach local")
        con.close()
        os.replace(partial, target)
    except BaseException:
        con.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return export


def marts_file(warehouse: Path, location: LakeLocation | None = None) -> Path:
    """The marts export readers should open: refreshed from object storage when the lake is there.

    Raises:
        LakehouseError: the lakehouse is on object storage and no export was published yet.
    """
    target = warehouse / EXPORT_FILE
    location = location or LakeLocation.from_env(warehouse)
    if export_url(location) is not None:
        fetch(location, target)
    return target
