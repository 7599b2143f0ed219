"""`bert_pretrained` materialized by Dagster into a temporary lakehouse and models folder."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.bert_pretraining import bert_pretrained
from sentiment_assets.defs.training.gpu import GPU_OP_TAGS
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import Manifest
from sentiment_assets.lib.models.bert.checkpoints import PRETRAINED, newest_pretrained
from sentiment_assets.lib.models.bert.pretrain import read_report

TINY_RUN = {
    "ops": {
        "bert_pretrained": {
            "config": {
                "vocab_size": 600,
                "hidden_size": 32,
                "num_layers": 1,
                "intermediate_size": 64,
                "steps": 8,
                "max_len": 32,
                "device": "cpu",
            }
        }
    }
}


def _materialize(warehouse: Path, models: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [bert_pretrained],
        resources={
            "lakehouse": LakehouseResource(path=str(warehouse)),
            "model_store": ModelStoreResource(path=str(models)),
        },
        run_config=TINY_RUN,
        raise_on_error=False,
    )


def test_pretrains_on_base_corpus_and_posts_and_records_the_snapshot(
    lakehouse: Lakehouse, warehouse: Path, tmp_path: Path, nsmc_binary: pd.DataFrame
) -> None:
    head = nsmc_binary.head(400)
    corpus = pd.DataFrame(
        {"sentence_id": range(len(head)), "text": head["text"], "split": head["split"]}
    )
    lakehouse.append("base_corpus", corpus)
    posts = pd.DataFrame(
        {
            "board_id": [1, 1],
            "post_id": [10, 11],
            "title": ["아란 너프 또 함?", "히어로 상향 좋다"],
            "body": ["진짜 너무하네 ㅠㅠㅠ", "드디어 ㅋㅋㅋㅋ"],
        }
    )
    snapshot = lakehouse.append("raw_posts", posts).snapshot_id
    models = tmp_path / "models"

    result = _materialize(warehouse, models)

    assert result.success
    path = newest_pretrained(models)
    assert path is not None and path.parent == models / PRETRAINED
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no staging left behind
    manifest = Manifest.read(path)
    assert manifest.training_snapshot_id == snapshot
    not_test = int((corpus["split"] != "test").sum())
    assert manifest.config["sources"] == {"base_corpus": not_test, "raw_posts": 2}
    report = read_report(path)
    assert report["texts"] == not_test + 2 and len(report["losses"]) == 8
    metadata = result.asset_materializations_for_node("bert_pretrained")[0].metadata
    assert metadata["snapshot_id"].value == snapshot
    assert metadata["texts"].value == not_test + 2
    assert metadata["version"].value == manifest.version
    assert "mlflow_run_id" in metadata and (models / "mlflow.db").is_file()


def test_fails_clearly_without_a_base_corpus(
    lakehouse: Lakehouse, warehouse: Path, tmp_path: Path
) -> None:
    lakehouse.append("other", pd.DataFrame({"x": [1]}))
    result = _materialize(warehouse, tmp_path / "models")
    assert not result.success
    failure = result.failure_data_for_node("bert_pretrained")
    assert failure is not None and "base_corpus is missing" in str(failure.error)
    assert newest_pretrained(tmp_path / "models") is None


def test_asks_kubernetes_for_a_gpu_and_runs_in_the_gpu_pool() -> None:
    assert bert_pretrained.op.pool == "gpu"
    k8s = json.loads(bert_pretrained.op.tags["dagster-k8s/config"])  # Dagster stores JSON text
    assert k8s == GPU_OP_TAGS["dagster-k8s/config"]
    assert k8s["pod_spec_config"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    container = GPU_OP_TAGS["dagster-k8s/config"]["container_config"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    spec = bert_pretrained.specs_by_key[dg.AssetKey("bert_pretrained")]
    assert spec.group_name == "training" and "pytorch" in spec.kinds
    assert dg.AssetKey("base_corpus") in {dep.asset_key for dep in spec.deps}
