"""MLflow logging for training and evaluation runs: a local SQLite backend, no server, by default.

The tracking URI comes from `settings.mlflow_tracking_uri()` (a `mlflow.db` inside the models
folder, or PostgreSQL when configured); artifacts go to `mlartifacts/` beside it (or the
configured S3 location), set explicitly on the experiment because MLflow's default is a folder
relative to the current directory. A file lock serialises
processes: two training steps creating the SQLite schema at once would otherwise race; the
model registry (`lib/registry`) takes the same lock around its alias changes.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sentiment_assets.lib.scaleout.mlflow_backend import artifact_location

EXPERIMENT = "maple-sentiment"


@contextmanager
def locked(models_root: Path) -> Iterator[None]:
    """Hold the models folder's MLflow lock (not re-entrant: never nest two `locked` blocks)."""
    models_root.mkdir(parents=True, exist_ok=True)
    with (models_root / ".mlflow.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def log_run(
    tracking_uri: str,
    models_root: Path,
    *,
    run_name: str,
    params: Mapping[str, object],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts: tuple[Path, ...] = (),
    experiment: str = EXPERIMENT,
) -> str:
    """Record one finished run; returns its run id."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    with locked(models_root):
        client = MlflowClient(tracking_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = (
            found.experiment_id
            if found
            else client.create_experiment(
                experiment, artifact_location=artifact_location(models_root, experiment)
            )
        )
        run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)[:6000]) for k, v in params.items()],
            tags=[RunTag("mlflow.runName", run_name)],
        )
        for path in artifacts:
            client.log_artifact(run_id, str(path))
        client.set_terminated(run_id, "FINISHED")
    return run_id
