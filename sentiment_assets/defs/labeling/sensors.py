"""new_posts_sensor: start labeling (and what follows it) whenever 1,000 new posts are waiting."""

import json
from dataclasses import asdict, dataclass
from typing import Self

import dagster as dg

from sentiment_assets.defs.dbt.assets import MARTS_SELECTION
from sentiment_assets.defs.labeling.assets import CHUNK_THRESHOLD
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.labeling.chunks import boundary_key, pending_posts

# Labeling and everything downstream of it (refinement, retraining, the champion's scores),
# plus the predictions for the same posts and the whole marts group. A missing key in a string
# selection selects nothing, so this job picks up ensemble_predictions the day it is defined.
LABELING_SELECTION = (
    dg.AssetSelection.assets("raw_chunks", "labeled_chunks").downstream()
    | dg.AssetSelection.from_string('key:"ensemble_predictions"')
    | MARTS_SELECTION
)

labeling_job = dg.define_asset_job(
    "labeling_job",
    selection=LABELING_SELECTION,
    tags={"llm_api": "labeling"},
    description="Freeze the next chunk of new posts, label it, then everything that follows.",
)


@dataclass(frozen=True)
class NewPostsCursor:
    """The sensor's high-water mark: the boundary of the last chunk it asked for."""

    board_id: int | None = None
    post_id: int | None = None
    run_key: str | None = None

    @classmethod
    def parse(cls, raw: str | None) -> Self:
        """Read a cursor written by `dump` (None or empty: nothing requested yet)."""
        if not raw:
            return cls()
        try:
            return cls(**json.loads(raw))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"new_posts_sensor cursor is not valid JSON state: {raw!r}") from exc

    def dump(self) -> str:
        """The cursor as JSON."""
        return json.dumps(asdict(self), sort_keys=True)


def build_new_posts_sensor(
    threshold: int = CHUNK_THRESHOLD, *, name: str = "new_posts_sensor"
) -> dg.SensorDefinition:
    """The sensor that launches `labeling_job` once `threshold` unchunked posts are waiting."""

    @dg.sensor(
        name=name,
        job=labeling_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts labeling_job when >= {threshold} posts are not yet in a chunk. "
        "Read-only: one count query over the lakehouse; the run key names the chunk's last post.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lakehouse: LakehouseResource
    ) -> dg.RunRequest | dg.SkipReason:
        cursor = NewPostsCursor.parse(context.cursor)
        lake = lakehouse.get()
        if not lake.exists():
            # Attaching would create the catalog: the sensor must never be the one to write it.
            return dg.SkipReason(f"no lakehouse at {lake.root} yet; nothing has been crawled")
        with lake.session() as session:
            pending = pending_posts(session, threshold)
        if pending.boundary is None:
            return dg.SkipReason(
                f"{pending.count} posts wait for a chunk, fewer than {threshold}"
                + (f"; last chunk requested: {cursor.run_key}" if cursor.run_key else "")
            )
        run_key = boundary_key(pending.boundary)
        if run_key == cursor.run_key:
            return dg.SkipReason(
                f"the chunk through post {pending.boundary[1]} of board {pending.boundary[0]} "
                f"was already requested (run key {run_key}); waiting for raw_chunks to freeze it"
            )
        context.update_cursor(
            NewPostsCursor(pending.boundary[0], pending.boundary[1], run_key).dump()
        )
        return dg.RunRequest(
            run_key=run_key,
            run_config={
                "ops": {"raw_chunks": {"config": {"threshold": threshold, "flush": False}}}
            },
            tags={"chunk_boundary": f"{pending.boundary[0]}:{pending.boundary[1]}"},
        )

    return _sensor


new_posts_sensor = build_new_posts_sensor()
