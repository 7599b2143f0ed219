"""The `feedback` asset: human corrections copied from the feedback store into the lake."""

from collections import Counter
from dataclasses import asdict

import dagster as dg
import pandas as pd
from pydantic import Field

from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.feedback.store import FeedbackRow

TABLE = "feedback"


class FeedbackConfig(dg.Config):
    """Which corrections to ingest."""

    up_to_id: int | None = Field(
        default=None,
        description="Ingest corrections up to this id (the batch `feedback_sensor` counted); "
        "None ingests everything new.",
    )


def feedback_frame(rows: list[FeedbackRow]) -> pd.DataFrame:
    """Store rows as the lake table's columns, with stable types even for empty batches."""
    frame = pd.DataFrame([asdict(r) for r in rows], columns=pd.Index(FeedbackRow.__annotations__))
    frame = frame.drop(columns=["consumed_by"]).rename(columns={"id": "feedback_id"})
    frame["feedback_id"] = frame["feedback_id"].astype("int64")
    frame["board_id"] = frame["board_id"].astype("Int64")
    frame["post_id"] = frame["post_id"].astype("Int64")
    frame["confidence"] = frame["confidence"].astype("float64")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame


@dg.asset(
    name=TABLE,
    group_name="feedback",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    kinds={"duckdb", "sqlite"},
    description="One row per human label (keyed by feedback_id): a correction, an accept "
    "(old_label = new_label: the reviewer confirmed the model) or an imported label; free text "
    "or post id, old and new label, reviewer, comment, source (api/review-app/import), and the "
    "model version and confidence behind the old label. Append-only; which training run "
    "consumed a label is tracked in the feedback store.",
)
def feedback(
    context: dg.AssetExecutionContext,
    config: FeedbackConfig,
    lakehouse: LakehouseResource,
    feedback_store: FeedbackStoreResource,
) -> dg.MaterializeResult:
    """Append store rows newer than the lake's highest feedback id."""
    store = feedback_store.get()
    with lakehouse.get().session() as lake:
        after = 0
        if lake.table_exists(TABLE):
            after = int(
                lake.query(f"select coalesce(max(feedback_id), 0) as m from lake.{TABLE}")[
                    "m"
                ].iloc[0]
            )
        rows = store.rows_after(after, up_to_id=config.up_to_id)
        written, snapshot_id = 0, lake.current_snapshot_id()
        if rows:
            result = lake.append(TABLE, feedback_frame(rows), key=("feedback_id",))
            written, snapshot_id = result.rows_written, result.snapshot_id or snapshot_id
        total = (
            int(lake.query(f"select count(*) as n from lake.{TABLE}")["n"].iloc[0])
            if (lake.table_exists(TABLE))
            else 0
        )
    context.log.info("ingested %d corrections after id %d", written, after)
    return dg.MaterializeResult(
        metadata={
            "rows_written": written,
            "rows_total": total,
            "max_feedback_id": max((r.id for r in rows), default=after),
            "snapshot_id": snapshot_id,
            "new_labels": dg.MetadataValue.json(dict(Counter(r.new_label for r in rows))),
            "sources": dg.MetadataValue.json(dict(Counter(r.source for r in rows))),
        }
    )
