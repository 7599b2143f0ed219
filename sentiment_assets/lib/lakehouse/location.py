"""Where the lakehouse's catalog and data files live, and how a DuckDB connection attaches them.

Default (nothing set): a SQLite catalog `catalog.sqlite` and Parquet files under `data/`, both in
the warehouse folder; several local processes can share it. Scale-out: the catalog in PostgreSQL
(`SENTIMENT_LAKE_CATALOG`) and the data files on S3-compatible storage (`SENTIMENT_LAKE_DATA`),
so writers on many machines share one lakehouse. The PostgreSQL and S3 credentials become
temporary DuckDB secrets on each connection, so no statement carries them. The extensions come
from their `duckdb-extension-*` wheels, as everywhere.

The warehouse folder stays in use either way for what is local by nature (the LLM cache, the
feedback store, the marts export for this machine's readers).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sentiment_assets.lib.lakehouse.errors import LakehouseError
from sentiment_assets.lib.lakehouse.extensions import load_extensions
from sentiment_assets.lib.scaleout.object_store import ObjectStore, split_s3_url
from sentiment_assets.lib.scaleout.postgres_url import PostgresUrl, SettingsError
from sentiment_assets.lib.sql_text import sql_literal

CATALOG = "SENTIMENT_LAKE_CATALOG"
CATALOG_SCHEMA = "SENTIMENT_LAKE_CATALOG_SCHEMA"
DATA = "SENTIMENT_LAKE_DATA"
ALIAS = "lake"


@dataclass(frozen=True)
class LakeLocation:
    """A lakehouse's catalog database and data path."""

    root: Path
    """The warehouse folder (local side files; the SQLite catalog and data when local)."""
    catalog: PostgresUrl | None = None
    """PostgreSQL catalog, or None for `root/catalog.sqlite`."""
    catalog_schema: str | None = None
    """PostgreSQL schema holding DuckLake's tables (None: the database's default schema)."""
    data_url: str | None = None
    """`s3://bucket/prefix/` (or another folder), or None for `root/data/`."""
    object_store: ObjectStore | None = None

    @classmethod
    def from_env(cls, root: Path, env: Mapping[str, str] | None = None) -> LakeLocation:
        """The location the environment selects for the warehouse folder `root`.

        Raises:
            LakehouseError: a variable is malformed or S3 credentials are missing.
        """
        env = os.environ if env is None else env
        try:
            raw_catalog = env.get(CATALOG, "").strip()
            catalog = PostgresUrl.parse(raw_catalog, variable=CATALOG) if raw_catalog else None
            data_url = env.get(DATA, "").strip() or None
            store = None
            if data_url is not None and data_url.startswith("s3://"):
                split_s3_url(data_url, variable=DATA)
                data_url = data_url if data_url.endswith("/") else data_url + "/"
                store = ObjectStore.from_env(env, needed_by=DATA)
            elif data_url is not None and "://" in data_url:
                raise SettingsError(f"{DATA}={data_url}: only s3:// URLs or folders are supported")
        except SettingsError as exc:
            raise LakehouseError(str(exc)) from exc
        schema = env.get(CATALOG_SCHEMA, "").strip() or None
        if schema is not None and not schema.replace("_", "").isalnum():
            raise LakehouseError(f"{CATALOG_SCHEMA}={schema} must be letters, digits and _")
        return cls(
            root=Path(root),
            catalog=catalog,
            catalog_schema=schema,
            data_url=data_url,
            object_store=store,
        )

    @property
    def sqlite_catalog(self) -> Path:
        """The SQLite catalog file of the local layout."""
        return self.root / "catalog.sqlite"

    @property
    def local_data(self) -> Path | None:
        """The local data folder, or None when the data files live in object storage."""
        if self.data_url is None:
            return self.root / "data"
        return None if self.object_store is not None else Path(self.data_url)

    @property
    def data_path(self) -> str:
        """DuckLake's DATA_PATH: a folder or s3:// prefix, ending in `/`."""
        local = self.local_data
        return f"{local}/" if local is not None else str(self.data_url)

    @property
    def extensions(self) -> tuple[str, ...]:
        """The DuckDB extensions this location needs, in load order."""
        names = ["postgres" if self.catalog else "sqlite_scanner"]
        if self.object_store is not None:
            names.append("httpfs")
        return (*names, "ducklake")

    def describe(self) -> str:
        """Catalog and data path for messages (no password)."""
        catalog = self.catalog.redacted() if self.catalog else str(self.sqlite_catalog)
        if self.catalog and self.catalog_schema:
            catalog += f" (schema {self.catalog_schema})"
        return f"catalog {catalog}, data {self.data_path}"

    def secrets_sql(self) -> list[str]:
        """CREATE SECRET statements for the catalog and the object storage (temporary)."""
        statements = []
        if self.catalog is not None:
            c = self.catalog
            # Unnamed, so the postgres extension uses it for DuckLake's catalog connection.
            statements.append(
                "create or replace secret __default_postgres (type postgres, "
                f"host {sql_literal(c.host)}, port {int(c.port)}, "
                f"database {sql_literal(c.database)}, "
                f"user {sql_literal(c.user)}, password {sql_literal(c.password)})"
            )
        if self.object_store is not None:
            statements.append(self.object_store.duckdb_secret_sql())
        return statements

    def attach_sql(self, alias: str = ALIAS) -> str:
        """The ATTACH statement (no credentials in it: those are in `secrets_sql`)."""
        options = [f"data_path {sql_literal(self.data_path)}", "data_inlining_row_limit 0"]
        if self.catalog is None:
            # WAL plus a busy timeout lets several local processes share the SQLite catalog;
            # inlining off keeps every row in Parquet where time travel can find it.
            options += ["meta_journal_mode 'WAL'", "meta_busy_timeout 30000"]
            target = f"ducklake:sqlite:{self.sqlite_catalog}"
        else:
            extra = " ".join(f"{k}={v}" for k, v in self.catalog.options if k == "sslmode")
            target = "ducklake:postgres:" + extra
            if self.catalog_schema:
                options.append(f"metadata_schema {sql_literal(self.catalog_schema)}")
        return f"attach if not exists {sql_literal(target)} as {alias} ({', '.join(options)})"

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Load the extensions and create the secrets on `con`, ready for `attach_sql()`."""
        load_extensions(con, self.extensions)
        for statement in self.secrets_sql():
            con.execute(statement)

    def catalog_exists(self) -> bool:
        """Whether a lakehouse was ever created here (no connection through DuckDB needed)."""
        if self.catalog is None:
            return self.sqlite_catalog.exists()
        import psycopg2

        schema = self.catalog_schema or "public"
        try:
            con = psycopg2.connect(
                self.catalog.url(), connect_timeout=10, options="-c statement_timeout=10000"
            )
        except psycopg2.Error as exc:
            raise LakehouseError(
                f"Cannot reach the lakehouse catalog {self.catalog.redacted()}: {exc}"
            ) from exc
        try:
            with con.cursor() as cur:
                cur.execute("select to_regclass(%s)", (f'"{schema}".ducklake_snapshot',))
                row = cur.fetchone()
                return bool(row and row[0])
        finally:
            con.close()
