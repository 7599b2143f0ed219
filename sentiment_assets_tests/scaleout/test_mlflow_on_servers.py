"""MLflow runs and the model registry in PostgreSQL, artifacts on S3, on real servers."""

from __future__ import annotations

import os
from pathlib import Path

from mlflow import MlflowClient

from sentiment_assets.lib.models.tracking import log_run
from sentiment_assets.lib.registry.store import ModelRegistry
from sentiment_assets.lib.settings import Paths, mlflow_tracking_uri
from sentiment_assets_tests.scaleout.conftest import ScaleOut


def test_runs_and_aliases_live_in_postgres_and_artifacts_in_s3(
    scaleout: ScaleOut, warehouse: Path, tmp_path: Path
) -> None:
    models = Paths.from_env().models
    uri = mlflow_tracking_uri()
    assert uri.startswith("postgresql+psycopg2://")
    artifact = tmp_path / "manifest.json"
    artifact.write_text('{"member": "lexicon"}')
    run_id = log_run(
        uri,
        models,
        run_name=f"lexicon-{scaleout.name}",
        params={"epochs": 1},
        metrics={"dev_accuracy": 0.8},
        tags={"member": "lexicon"},
        artifacts=(artifact,),
        experiment=f"exp-{scaleout.name}",
    )
    assert os.environ["MLFLOW_S3_ENDPOINT_URL"] == scaleout.servers.s3.endpoint
    keys = scaleout.keys(f"{scaleout.name}/mlflow/")
    assert any(k.endswith(f"{run_id}/artifacts/manifest.json") for k in keys), keys
    assert not (models / "mlflow.db").exists() and not (models / "mlartifacts").exists()

    version_dir = models / "ensemble" / "20260101T000000"
    version_dir.mkdir(parents=True)
    registry = ModelRegistry(models, name=f"ensemble-{scaleout.name}")
    registered = registry.register("20260101T000000", run_id=run_id, tags={"snapshot_id": 7})
    registry.promote(registered.number, reason="first")

    # A fresh client (another machine) reads the run, the artifact and the alias back.
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.get_run(run_id).data.metrics["dev_accuracy"] == 0.8
    downloaded = client.download_artifacts(run_id, "manifest.json", str(tmp_path / "back"))
    assert Path(downloaded).read_text() == '{"member": "lexicon"}'
    other_machine = ModelRegistry(tmp_path / "elsewhere", name=f"ensemble-{scaleout.name}")
    assert other_machine.aliases() == {"champion": registered.number}
