from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from sentiment_assets.defs.corpus.assets import base_corpus
from sentiment_assets.defs.ensemble.assets import ensemble_predictions
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.assets import (
    MEMBER_ASSETS,
    ensemble_model,
    member_model_asset,
)
from sentiment_assets.defs.training.gpu import GPU_OP_TAGS
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LABELS, Manifest, MemberSpec, versions
from sentiment_assets.lib.models.lexicon import Lexicon
from sentiment_assets.lib.models.lexicon import train as train_lexicon
from sentiment_assets_tests.models.synthetic import corpus_frame, write_corpus

LEXICON_MODEL = next(a for a in MEMBER_ASSETS if a.key.to_user_string() == "lexicon_model")


def _posts(ids: range) -> pd.DataFrame:
    titles = ["보스 레이드 최고의 업데이트", "", "이번 패치 최악이다 ㅡㅡ", "점검 시간 공지"]
    bodies = ["너무 좋아요 ^^", "   ", "완전 망했네요", "일정 정리했습니다 " * 300]
    return pd.DataFrame(
        {
            "board_id": [2294] * len(ids),
            "post_id": list(ids),
            "title": [titles[i % 4] for i in ids],
            "body": [bodies[i % 4] for i in ids],
            "posted_at": pd.Timestamp("2026-11-01", tz="UTC"),
        }
    )


def _metadata(result: dg.ExecuteInProcessResult, node: str) -> dict:
    event = result.asset_materializations_for_node(node)[0]
    return {k: v.value for k, v in event.metadata.items()}


def test_corpus_to_predictions_into_a_temporary_lakehouse(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus.parquet")
    resources = {
        "lakehouse": LakehouseResource(),
        "model_store": ModelStoreResource(),
    }
    run_config = dg.RunConfig(
        ops={"base_corpus": {"config": {"source": str(corpus), "train_rows": None}}}
    )
    result = dg.materialize(
        [base_corpus, LEXICON_MODEL, ensemble_model, ensemble_predictions],
        resources=resources,
        run_config=run_config,
    )
    assert result.success
    assert _metadata(result, "ensemble_predictions")["posts_scored"] == 0  # no raw_posts yet

    models = ModelStoreResource().root()
    lexicon_dir = versions(models, "lexicon")[-1]
    manifest = Manifest.read(lexicon_dir)
    with lakehouse.session() as lake:
        corpus_rows = lake.read_table("base_corpus", snapshot_id=manifest.training_snapshot_id)
    assert len(corpus_rows) == len(corpus_frame())
    assert manifest.vocabulary_hash == Lexicon.load(lexicon_dir).vocabulary_hash()
    ensemble_manifest = Manifest.read(versions(models, "ensemble")[-1])
    assert ensemble_manifest.config["members"] == {"lexicon": manifest.version}

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=ModelStoreResource().tracking_uri())
    experiment = client.get_experiment_by_name("maple-sentiment")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert {r.data.tags["member"] for r in runs} == {"lexicon", "ensemble"}

    lakehouse.append("raw_posts", _posts(range(8)), key=("board_id", "post_id"))
    scored = dg.materialize([ensemble_predictions], resources=resources)
    assert _metadata(scored, "ensemble_predictions")["posts_scored"] == 8
    with lakehouse.session() as lake:
        rows = lake.query("select * from lake.ensemble_predictions order by post_id")
    assert list(rows["post_id"]) == list(range(8))
    assert set(rows["model_version"]) == {ensemble_manifest.version}
    assert list(rows.loc[rows["status"] == "empty", "post_id"]) == [1, 5]  # no title, blank body
    assert rows.loc[rows["status"] == "empty", "label"].isna().all()
    ok = rows[rows["status"] == "ok"]
    assert set(ok["label"]) <= set(LABELS)
    assert (ok[["p_neg", "p_neu", "p_pos"]].sum(axis=1).round(6) == 1).all()
    assert rows.loc[0, "label"] == "긍정" and rows.loc[2, "label"] == "부정"
    member_probs = json.loads(rows.loc[0, "member_probabilities"])
    assert set(member_probs) == {"lexicon"} and len(member_probs["lexicon"]) == 3

    again = dg.materialize([ensemble_predictions], resources=resources)
    assert _metadata(again, "ensemble_predictions")["posts_scored"] == 0
    lakehouse.append("raw_posts", _posts(range(8, 10)), key=("board_id", "post_id"))
    newer = dg.materialize([ensemble_predictions], resources=resources)
    assert _metadata(newer, "ensemble_predictions")["posts_scored"] == 2
    with lakehouse.session() as lake:
        rows = lake.query("select post_id from lake.ensemble_predictions")
    assert sorted(rows["post_id"]) == list(range(10))


def test_training_assets_follow_the_registry_and_tag_gpu_members() -> None:
    cpu = member_model_asset(MemberSpec("cpu_member", train_lexicon, Lexicon.load, 0.1))
    gpu = member_model_asset(MemberSpec("gpu_member", train_lexicon, Lexicon.load, 0.35, gpu=True))
    assert cpu.op.pool is None and "dagster-k8s/config" not in cpu.op.tags
    assert gpu.op.pool == "gpu"
    assert json.loads(gpu.op.tags["dagster-k8s/config"]) == GPU_OP_TAGS["dagster-k8s/config"]
    assert gpu.key.to_user_string() == "gpu_member_model"
