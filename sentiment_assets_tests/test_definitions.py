"""The whole code location loads and the asset graph has the shape the design describes."""

from __future__ import annotations

import dagster as dg

from sentiment_assets.definitions import defs

# Asset -> (group, pool). Grows with every capability; a missing or renamed asset fails here.
EXPECTED_ASSETS = {
    "lakehouse_inventory": ("lakehouse", "lakehouse"),
    "raw_posts": ("crawl", "lakehouse"),
    "raw_chunks": ("labeling", "lakehouse"),
    "labeled_chunks": ("labeling", "lakehouse"),
    "base_corpus": ("corpus", "lakehouse"),
    "lexicon_model": ("training", None),
    "ensemble_model": ("training", None),
    "ensemble_predictions": ("ensemble", "lakehouse"),
    "challenger_model": ("retraining", "gpu"),
    "champion_predictions": ("ensemble", "lakehouse"),
    "post_keywords": ("marts", "lakehouse"),
    "marts_export": ("marts", None),
    "monthly_reports": ("reports", None),
    # dbt models are one multi-asset: its op runs in the lakehouse pool, since dbt writes the lake
    "stg_lake__raw_posts": ("marts", "lakehouse"),
    "int_post_sentiment": ("marts", "lakehouse"),
    "sentiment_by_job_week": ("marts", "lakehouse"),
    "model_quality": ("marts", "lakehouse"),
    "feedback": ("feedback", "lakehouse"),
    "refined_labels": ("refine", "lakehouse"),
}
# Assets that write the lakehouse must run in its single-writer pool.
LAKE_WRITERS = {
    "lakehouse_inventory",
    "raw_posts",
    "raw_chunks",
    "labeled_chunks",
    "base_corpus",
    "ensemble_predictions",
    "champion_predictions",
    "post_keywords",
    "sentiment_by_job_week",
    "feedback",
    "refined_labels",
}


def _graph() -> dg.Definitions:
    return defs()


def _ops(assets_def: dg.AssetsDefinition) -> list[dg.OpDefinition]:
    """The ops behind an asset: one, or the steps of a graph-backed asset."""
    node = assets_def.node_def
    if isinstance(node, dg.GraphDefinition):
        return list(node.iterate_op_defs())
    assert isinstance(node, dg.OpDefinition)
    return [node]


def _pool(assets_def: dg.AssetsDefinition) -> str | None:
    """The pool of the steps that open the lakehouse (of the only step, where there is one)."""
    ops = _ops(assets_def)
    lake_ops = [op for op in ops if "lakehouse" in op.required_resource_keys] or ops
    (pool,) = {op.pool for op in lake_ops}
    return pool


def test_every_expected_asset_is_defined_with_group_and_pool() -> None:
    definitions = _graph()
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert set(EXPECTED_ASSETS) <= keys
    for name, (group, pool) in EXPECTED_ASSETS.items():
        node = graph.get(dg.AssetKey.from_user_string(name))
        assert node.group_name == group, name
        assert _pool(definitions.resolve_assets_def(name)) == pool, name
    for name in LAKE_WRITERS:
        assert _pool(definitions.resolve_assets_def(name)) == "lakehouse"


def test_llm_calls_run_outside_the_lakehouse_pool() -> None:
    definitions = _graph()
    for name in ("labeled_chunks", "refined_labels"):
        ops = _ops(definitions.resolve_assets_def(name))
        callers = [op for op in ops if "llm" in op.required_resource_keys]
        calling = [op for op in callers if op.pool == "llm_api"]
        assert calling, f"{name}: no step in the llm_api pool"
        for op in calling:
            assert "lakehouse" not in op.required_resource_keys, (name, op.name)
        for op in ops:
            if "lakehouse" in op.required_resource_keys:
                assert op.pool == "lakehouse", (name, op.name)


def test_demo_job_covers_every_asset_and_resources_are_bound() -> None:
    definitions = _graph()
    job = definitions.resolve_job_def("demo_job")
    in_job = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    # Materializable assets only: a dependency on an asset this checkout does not define (e.g.
    # refined_labels before refinement lands) is an external node that no job can run.
    graph = definitions.resolve_asset_graph()
    all_keys = {k.to_user_string() for k in graph.materializable_asset_keys}
    assert in_job == all_keys
    assert "lakehouse" in (definitions.resources or {})


def test_the_loop_sensors_run_by_default_and_the_crawl_schedule_does_not() -> None:
    # The daemon alone must close the loop (new posts -> labeling, 100 labels -> retraining);
    # the crawl reaches an outside site, so a person turns it on (README, "The loop").
    definitions = _graph()
    for name in ("new_posts_sensor", "feedback_sensor"):
        sensor = definitions.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, name
    schedule = definitions.resolve_schedule_def("crawl_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
