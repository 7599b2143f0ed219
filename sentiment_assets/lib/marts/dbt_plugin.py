"""dbt-duckdb plugin that attaches the lakehouse exactly as `Lakehouse` does, fully offline.

dbt-duckdb opens its own connections and would otherwise try to download `ducklake` (and
`postgres`, `httpfs`) when it attaches the lakehouse. Plugins run `configure_connection` before
anything else touches the connection, so here the packaged extensions are LOADed, the catalog
and object-storage credentials become DuckDB secrets, and the lakehouse is attached as `lake`
from the same settings every Python reader and writer uses (`LakeLocation.from_env`): one
definition of where the lakehouse lives, whether a local SQLite catalog or PostgreSQL + S3.

The warehouse folder is made absolute first. The pipeline stores the absolute data path in the
DuckLake catalog, and DuckLake compares the ATTACH's `data_path` with it as text, so the
profile's relative default (`../warehouse`, for `dbt build` run by hand in dbt_project/) would
be refused as a different path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from sentiment_assets.lib.lakehouse.location import LakeLocation


class Plugin(BasePlugin):
    """Attaches the lakehouse of the profile's `warehouse` folder as `lake`."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Read the warehouse folder from the profile (relative to the folder dbt runs in)."""
        warehouse = plugin_config.get("warehouse")
        if not warehouse:
            raise ValueError("the lakehouse dbt plugin needs `warehouse` in its config")
        self.location = LakeLocation.from_env(Path(warehouse).expanduser().resolve())

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        """LOAD the packaged extensions, create the secrets and attach the lakehouse."""
        self.location.prepare(conn)
        conn.execute(self.location.attach_sql())
