"""Assets that describe and maintain the lakehouse itself."""

import dagster as dg
import pandas as pd

from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.lakehouse.integrity import damaged_files


@dg.asset(
    group_name="lakehouse",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    kinds={"duckdb"},
    description="One row per lakehouse table per snapshot: row and data-file counts, so data "
    "growth and crawl health can be charted over time. Fails, naming them, when data files "
    "are damaged.",
)
def lakehouse_inventory(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Count rows and data files of every other table at the current snapshot."""
    with lakehouse.get().session() as lake:
        # Row counts come from the catalog and never open a data file: check the files too.
        damaged = damaged_files(lake.con)
        if damaged:
            listed = "; ".join(f"{d.table}: {d.path} ({d.error})" for d in damaged[:10])
            raise dg.Failure(
                description=f"{len(damaged)} lakehouse data files are damaged: {listed}. "
                "Restore them from a backup (same paths); the catalog still lists them, so "
                "their rows come back with them.",
                metadata={"damaged_files": dg.MetadataValue.json([d.path for d in damaged])},
                allow_retries=False,
            )
        snapshot_id = lake.current_snapshot_id()
        counted = []
        for table in lake.tables():
            if table == "lakehouse_inventory":
                continue
            rows = lake.query(f'select count(*) as n from lake."{table}"')["n"].iloc[0]
            files = lake.query("select count(*) as n from ducklake_list_files('lake', ?)", [table])[
                "n"
            ].iloc[0]
            counted.append(
                {
                    "snapshot_id": snapshot_id,
                    "table_name": table,
                    "row_count": int(rows),
                    "data_files": int(files),
                    "observed_at": pd.Timestamp.now(tz="UTC"),
                }
            )
        frame = pd.DataFrame.from_records(
            counted,
            columns=pd.Index(
                ["snapshot_id", "table_name", "row_count", "data_files", "observed_at"]
            ),
        )
        result = lake.append("lakehouse_inventory", frame, key=("snapshot_id", "table_name"))
    context.log.info("inventoried %d tables at snapshot %d", len(frame), snapshot_id)
    return dg.MaterializeResult(
        metadata={
            "tables": len(frame),
            "snapshot_id": snapshot_id,
            "written_snapshot_id": result.snapshot_id or snapshot_id,
            "rows_by_table": dg.MetadataValue.json(
                {r["table_name"]: r["row_count"] for r in counted}
            ),
        }
    )
