"""dbt-duckdb plugin that LOADs the lakehouse extensions from their PyPI packages.

dbt-duckdb opens its own connections and would otherwise try to download `ducklake` when the
profile ATTACHes the lakehouse. Plugins run `configure_connection` before the profile's
`attach` list, so loading the packaged binaries here makes the ATTACH work with no network and
no extension folder to prepare.

It also makes the lakehouse paths of the profile absolute. The pipeline stores the absolute
data path in the DuckLake catalog, and DuckLake compares the ATTACH's `data_path` with it as
text, so the profile's relative default (`../warehouse`, for `dbt build` run by hand in
dbt_project/) would be refused as a different path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from sentiment_assets.lib.lakehouse.extensions import LAKEHOUSE_EXTENSIONS, load_extensions


class Plugin(BasePlugin):
    """Loads `sqlite_scanner` and `ducklake` (or the `extensions` listed in its config)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Read the optional `extensions` list from the profile."""
        self.extensions = tuple(plugin_config.get("extensions", LAKEHOUSE_EXTENSIONS))
        for attachment in (self.creds.attach or []) if self.creds else []:
            attachment.path, attachment.options = absolute_lake_paths(
                attachment.path, attachment.options, Path.cwd()
            )

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        """LOAD the packaged extensions into a new dbt connection."""
        load_extensions(conn, self.extensions)


DUCKLAKE_SQLITE = "ducklake:sqlite:"


def absolute_lake_paths(
    path: str, options: dict[str, Any] | None, base: Path
) -> tuple[str, dict[str, Any] | None]:
    """A `ducklake:sqlite:` catalog path and its `data_path` option, resolved against `base`.

    Anything else (URLs, other catalogs, absolute paths) is returned unchanged.
    """
    if not path.startswith(DUCKLAKE_SQLITE):
        return path, options
    catalog = Path(path.removeprefix(DUCKLAKE_SQLITE))
    path = DUCKLAKE_SQLITE + str(catalog if catalog.is_absolute() else (base / catalog).resolve())
    data_path = (options or {}).get("data_path")
    if isinstance(data_path, str) and "://" not in data_path and not Path(data_path).is_absolute():
        # The trailing slash is part of how DuckLake spells a folder; resolve() would drop it.
        options = {**(options or {}), "data_path": f"{(base / data_path).resolve()}/"}
    return path, options
