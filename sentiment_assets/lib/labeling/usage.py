"""Usage and cost of a labeling run, logged to MLflow next to the model runs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from sentiment_assets.lib.labeling.records import UsageSummary
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.scaleout.mlflow_backend import artifact_location

EXPERIMENT = "labeling"
_LABEL_METRIC = ("negative", "neutral", "positive")


def usage_metrics(summary: UsageSummary) -> dict[str, float]:
    """The numeric side of `summary`, flat, for MLflow metrics."""
    metrics: dict[str, float] = {
        "posts": summary.posts,
        "attempts": summary.attempts,
        "requests": summary.requests,
        "http_retries": summary.http_retries,
        "cache_hits": summary.cache_hits,
        "tokens_in": summary.tokens_in,
        "tokens_out": summary.tokens_out,
        "posts_labeled": summary.posts_labeled,
        "posts_unlabeled": summary.posts_unlabeled,
        "budget_exhausted": summary.budget_exhausted,
        "elapsed_s": summary.elapsed_s,
    }
    if summary.cost_usd is not None:
        metrics["cost_usd"] = summary.cost_usd
    for name in ("latency_p50_ms", "latency_p95_ms"):
        value = getattr(summary, name)
        if value is not None:
            metrics[name] = value
    for status in ("ok", "invalid", "failed"):
        metrics[f"status_{status}"] = summary.status_counts.get(status, 0)
    for label, name in zip(LABELS, _LABEL_METRIC, strict=True):
        metrics[f"label_{name}"] = summary.label_counts.get(label, 0)
    return metrics


def log_usage(
    summary: UsageSummary,
    *,
    tracking_uri: str,
    artifact_root: Path,
    run_name: str,
    params: Mapping[str, object],
    tags: Mapping[str, str],
) -> str:
    """Log one labeling run's usage to MLflow; returns the MLflow run id."""
    # Imported late: mlflow takes a second or two to import and only this function needs it.
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        location = artifact_location(artifact_root.parent, EXPERIMENT)
        if location.startswith("file:"):
            artifact_root.mkdir(parents=True, exist_ok=True)
            location = artifact_root.resolve().as_uri()
        try:
            experiment_id = client.create_experiment(EXPERIMENT, artifact_location=location)
        except MlflowException:
            # Another process created it between our lookup and our create.
            experiment = client.get_experiment_by_name(EXPERIMENT)
            if experiment is None:
                raise
            experiment_id = experiment.experiment_id
    else:
        experiment_id = experiment.experiment_id
    run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
    run_id = run.info.run_id
    now_ms = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now_ms, 0) for k, v in usage_metrics(summary).items()],
        params=[Param(k, "" if v is None else str(v)) for k, v in params.items()],
    )
    client.set_terminated(run_id)
    return run_id
