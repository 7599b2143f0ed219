"""dbt-duckdb plugin that LOADs the lakehouse extensions from their PyPI packages.

dbt-duckdb opens its own connections and would otherwise try to download `ducklake` when the
profile ATTACHes the lakehouse. Plugins run `configure_connection` before the profile's
`attach` list, so loading the packaged binaries here makes the ATTACH work with no network and
no extension folder to prepare.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from sentiment_assets.lib.lakehouse.extensions import LAKEHOUSE_EXTENSIONS, load_extensions


class Plugin(BasePlugin):
    """Loads `sqlite_scanner` and `ducklake` (or the `extensions` listed in its config)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Read the optional `extensions` list from the profile."""
        self.extensions = tuple(plugin_config.get("extensions", LAKEHOUSE_EXTENSIONS))

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        """LOAD the packaged extensions into a new dbt connection."""
        load_extensions(conn, self.extensions)
