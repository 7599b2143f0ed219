"""The `lakehouse` resource every writing asset uses."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT, Paths

LAKEHOUSE_POOL = "lakehouse"
"""The single-writer pool (limit 1 in dagster.yaml): every asset that writes the lake runs in it."""

LAKEHOUSE_RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL)
"""Step retry for lake writers, on top of the commit-level retries inside `Lakehouse`."""


class LakehouseResource(dg.ConfigurableResource):
    """The DuckLake lakehouse: SQLite catalog and Parquet files under one folder."""

    path: str | None = Field(
        default=None,
        description="Warehouse folder; relative paths are taken from the project root. "
        "Defaults to SENTIMENT_WAREHOUSE, else warehouse/.",
    )

    def get(self) -> Lakehouse:
        """The lakehouse this resource points at."""
        if self.path is None:
            return Lakehouse(Paths.from_env().warehouse)
        root = Path(self.path)
        return Lakehouse(root if root.is_absolute() else PROJECT_ROOT / root)


@dg.definitions
def defs() -> dg.Definitions:
    """Bind the lakehouse resource for every asset in the code location."""
    return dg.Definitions(resources={"lakehouse": LakehouseResource()})
