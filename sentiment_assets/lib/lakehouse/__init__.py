"""The DuckLake lakehouse: a SQLite catalog plus Parquet files under `warehouse/`."""

from sentiment_assets.lib.lakehouse.errors import LakehouseError
from sentiment_assets.lib.lakehouse.lake import Lakehouse, Snapshot, WriteResult

__all__ = ["Lakehouse", "LakehouseError", "Snapshot", "WriteResult"]
