"""`feedback_sensor`: enough new human labels launch retraining with them mixed in.

A human label is a correction or an accept (`lib/feedback/store.py`); both count. The launched
`retraining_job` ingests the batch, refines, retrains and gates, scores the posts with the
champion and refreshes the marts; the retraining asset marks the labels it trained on as
consumed. The sensor runs whenever the daemon runs (`dagster dev`, `make dev`): a reviewer's
100th label needs nobody to switch anything on.
"""

import json

import dagster as dg

from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.retraining.jobs import retraining_job


def _cursor(raw: str | None) -> int:
    return int(json.loads(raw)["max_feedback_id"]) if raw else 0


@dg.sensor(
    job=retraining_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts retraining_job when >= retrain_threshold (100) human labels (corrections "
    "and accepts) are unconsumed since the last batch. Reads only the SQLite feedback store; the "
    "run key names the batch's highest feedback id.",
)
def feedback_sensor(
    context: dg.SensorEvaluationContext, feedback_store: FeedbackStoreResource
) -> dg.SensorResult | dg.SkipReason:
    """Launch `retraining_job` once per batch of `retrain_threshold` unconsumed human labels.

    Reads only the SQLite feedback store (one indexed count), never the lake. The run key is
    the highest correction id in the batch, so a re-evaluated tick cannot launch the same batch
    twice; the cursor (JSON, highest id launched) makes the next batch count only newer rows.
    """
    after = _cursor(context.cursor)
    if not feedback_store.file().exists():
        return dg.SkipReason("no feedback store yet: nobody has reviewed or corrected a post")
    count, max_id = feedback_store.get().unconsumed_summary(after_id=after)
    threshold = feedback_store.retrain_threshold
    if count < threshold:
        return dg.SkipReason(
            f"{count} unconsumed human labels after id {after}; retraining needs {threshold}"
        )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"feedback-{max_id}",
                run_config={"ops": {"feedback": {"config": {"up_to_id": max_id}}}},
                tags={"feedback/max_id": str(max_id), "feedback/rows": str(count)},
            )
        ],
        cursor=json.dumps({"max_feedback_id": max_id}),
    )
