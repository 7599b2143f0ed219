"""raw_chunks -> labeled_chunks materialized by Dagster into a temporary lakehouse."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from sentiment_assets.defs.labeling.assets import labeled_chunks, raw_chunks
from sentiment_assets.defs.labeling.resources import LlmResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.labeling.chunks import freeze_chunks
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer, keyword_label
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.text.normalize import post_text
from sentiment_assets_tests.labeling import keyword_model
from sentiment_assets_tests.labeling.conftest import add_raw_posts


def chunk_config(threshold: int, flush: bool) -> dict:
    return {"ops": {"raw_chunks": {"config": {"threshold": threshold, "flush": flush}}}}


def resources(lakehouse: Lakehouse, **llm: object) -> dict:
    return {
        "lakehouse": LakehouseResource(path=str(lakehouse.root)),
        "llm": LlmResource(**llm),  # type: ignore[arg-type]
    }


def openai_llm(server: FakeLlmServer, **overrides: object) -> dict:
    return {
        "provider": "openai",
        "base_url": server.base_url,
        "model": "gemma-3-12b",
        "batch_size": 8,
        "base_delay_s": 0.01,
        **overrides,
    }


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    mat = event.materialization
    return {k: v.value for k, v in mat.metadata.items()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(str(e.event_specific_data) for e in result.get_step_failure_events())


def test_freezing_takes_full_chunks_in_arrival_order_and_flush_takes_the_rest(
    lakehouse: Lakehouse,
) -> None:
    add_raw_posts(lakehouse, 25)
    with lakehouse.session() as lake:
        first = freeze_chunks(lake, threshold=10, flush=False)
        assert [(c.chunk_id, c.size, c.last, c.is_partial) for c in first] == [
            ("chunk-000001", 10, (2294, 10), False),
            ("chunk-000002", 10, (2294, 20), False),
        ]
        assert freeze_chunks(lake, threshold=10, flush=False) == []  # 5 waiting: no chunk
    add_raw_posts(lakehouse, 7, start=26)
    with lakehouse.session() as lake:
        assert [c.size for c in freeze_chunks(lake, threshold=10, flush=False)] == [10]
        flushed = freeze_chunks(lake, threshold=10, flush=True)
        assert [(c.chunk_id, c.size, c.is_partial) for c in flushed] == [("chunk-000004", 2, True)]
        chunks = lake.query(
            "select c.*, p.title, p.body from lake.raw_chunks c join lake.raw_posts p "
            "using (board_id, post_id) order by chunk_seq, position"
        )
    assert chunks["post_id"].tolist() == list(range(1, 33))  # every post exactly once, in order
    assert chunks["position"].tolist()[:3] == [1, 2, 3]
    assert chunks["is_partial"].tolist() == [False] * 30 + [True] * 2
    assert chunks["text"].tolist() == [
        post_text(t, b) for t, b in zip(chunks["title"], chunks["body"], strict=True)
    ]


def test_raw_chunks_asset_reports_what_it_froze(lakehouse: Lakehouse) -> None:
    add_raw_posts(lakehouse, 25)
    result = dg.materialize(
        [raw_chunks], resources=resources(lakehouse), run_config=chunk_config(10, False)
    )
    assert metadata(result, "raw_chunks") == {
        "chunks_frozen": 2,
        "posts_chunked": 20,
        "chunk_ids": ["chunk-000001", "chunk-000002"],
        "last_boundary": "chunk-through-2294-20",
        "partial_chunks": 0,
        "posts_left_unchunked": 5,
        "threshold": 10,
    }


def test_labeling_chunks_against_an_openai_server_then_a_rerun_makes_no_calls(
    lakehouse: Lakehouse, openai_server: FakeLlmServer, warehouse: Path
) -> None:
    add_raw_posts(lakehouse, 20)
    res = resources(lakehouse, **openai_llm(openai_server))
    result = dg.materialize(
        [raw_chunks, labeled_chunks], resources=res, run_config=chunk_config(10, True)
    )
    assert result.success
    meta = metadata(result, "labeled_chunks")
    assert meta["rows_written"] == 20 and meta["posts_labeled"] == 20
    assert meta["requests"] == 3 and meta["provider"] == "openai" and meta["cost_usd"] == 0.0
    assert meta["status_counts"] == {"ok": 20} and meta["chunks"] == [
        "chunk-000001",
        "chunk-000002",
    ]
    assert meta["tokens_in"] > 0 and meta["mlflow_run_id"]
    with lakehouse.session() as lake:
        rows = lake.query(
            "select l.*, c.text from lake.labeled_chunks l join lake.raw_chunks c "
            "using (board_id, post_id) order by post_id"
        )
    assert rows["label"].tolist() == [keyword_label(t) for t in rows["text"]]
    assert rows["labeling_run_id"].unique().tolist() == [result.run_id]
    assert rows["is_weak"].tolist() == [False] * 20
    assert all(str(v).startswith("ko-sentiment-v1+") for v in rows["prompt_version"])
    assert rows["status"].unique().tolist() == ["ok"]
    # Usage went to MLflow under the models folder.
    from mlflow import MlflowClient

    from sentiment_assets.lib.settings import mlflow_tracking_uri

    run = MlflowClient(tracking_uri=mlflow_tracking_uri()).get_run(meta["mlflow_run_id"])
    assert run.data.metrics["posts_labeled"] == 20 and run.data.params["provider"] == "openai"
    assert (warehouse / "llm_cache.sqlite").is_file()
    calls = len(openai_server.model.seen)
    rerun = dg.materialize(
        [raw_chunks, labeled_chunks], resources=res, run_config=chunk_config(10, True)
    )
    assert rerun.success and len(openai_server.model.seen) == calls
    assert metadata(rerun, "labeled_chunks")["posts_to_label"] == 0


def test_an_outage_fails_the_run_records_every_attempt_and_the_next_run_recovers(
    lakehouse: Lakehouse, openai_server: FakeLlmServer
) -> None:
    add_raw_posts(lakehouse, 6)
    openai_server.model.queue("server_error")
    res = resources(lakehouse, **openai_llm(openai_server, max_retries=0, track_usage=False))
    failed = dg.materialize(
        [raw_chunks, labeled_chunks],
        resources=res,
        run_config=chunk_config(10, True),
        raise_on_error=False,
    )
    assert not failed.success
    assert "no post got a label: 6 attempts failed with: HTTP 503" in failure_message(failed)
    recovered = dg.materialize([labeled_chunks], resources=res)
    assert metadata(recovered, "labeled_chunks")["posts_labeled"] == 6
    with lakehouse.session() as lake:
        rows = lake.query(
            "select status, count(*) as n, count(label) as labeled "
            "from lake.labeled_chunks group by status order by status"
        )
    assert rows.to_dict("records") == [
        {"status": "failed", "n": 6, "labeled": 0},
        {"status": "ok", "n": 6, "labeled": 6},
    ]


def test_weak_labels_need_the_ensemble_and_make_way_for_an_llm(
    lakehouse: Lakehouse, openai_server: FakeLlmServer, tmp_path: Path
) -> None:
    add_raw_posts(lakehouse, 6)
    weak = resources(
        lakehouse, provider="weak", weak_loader=keyword_model.LOADER, track_usage=False
    )
    no_model = dg.materialize(
        [raw_chunks, labeled_chunks],
        resources=weak,
        run_config=chunk_config(10, True),
        raise_on_error=False,
    )
    assert not no_model.success
    message = failure_message(no_model)
    assert "none could be loaded" in message and "sentiment train" in message
    keyword_model.install(tmp_path / "models", version="v7")  # SENTIMENT_MODELS of the fixture
    labeled = dg.materialize([labeled_chunks], resources=weak)
    meta = metadata(labeled, "labeled_chunks")
    assert meta["is_weak"] is True and meta["posts_labeled"] == 6 and meta["model"] == "ensemble@v7"
    llm = dg.materialize(
        [labeled_chunks],
        resources=resources(lakehouse, **openai_llm(openai_server, track_usage=False)),
    )
    assert metadata(llm, "labeled_chunks")["posts_labeled"] == 6  # weak rows are relabeled
    with lakehouse.session() as lake:
        rows = lake.query(
            "select provider, is_weak, count(*) as n from lake.labeled_chunks "
            "where status = 'ok' group by all order by provider"
        )
    assert rows.to_dict("records") == [
        {"provider": "openai", "is_weak": False, "n": 6},
        {"provider": "weak", "is_weak": True, "n": 6},
    ]
    again = dg.materialize([labeled_chunks], resources=weak)
    assert metadata(again, "labeled_chunks")["posts_to_label"] == 0


def test_nothing_to_label_succeeds_without_loading_a_model(lakehouse: Lakehouse) -> None:
    weak = resources(lakehouse, provider="weak", weak_loader=keyword_model.LOADER)
    result = dg.materialize([raw_chunks, labeled_chunks], resources=weak)
    assert result.success
    assert metadata(result, "labeled_chunks")["posts_to_label"] == 0
    assert metadata(result, "raw_chunks")["chunks_frozen"] == 0
