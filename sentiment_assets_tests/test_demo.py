"""`sentiment demo` runs the real job into a real instance and lakehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from sentiment_assets.cli.demo import blocked_by, failure_lines
from sentiment_assets.defs.lakehouse.assets import lakehouse_inventory
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT


def test_lakehouse_inventory_counts_tables(lakehouse: Lakehouse) -> None:
    import pandas as pd

    lakehouse.append("posts", pd.DataFrame({"id": [1, 2, 3]}))
    with lakehouse.session() as lake:
        # dbt's marts live in their own schema; the inventory covers the pipeline's tables only.
        lake.con.execute("create schema lake.marts")
        lake.con.execute("create table lake.marts.crawl_health as select 1 as n")
    result = dg.materialize(
        [lakehouse_inventory], resources={"lakehouse": LakehouseResource(path=str(lakehouse.root))}
    )
    assert result.success
    with lakehouse.session() as lake:
        rows = lake.query("select table_name, row_count, data_files from lake.lakehouse_inventory")
    assert rows.to_dict("records") == [{"table_name": "posts", "row_count": 3, "data_files": 1}]


def test_sentiment_demo_exits_zero_and_says_where_to_look(warehouse: Path, tmp_path: Path) -> None:
    # conftest switches off ../shared and NSMC online: this is a fresh, offline clone's demo.
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "sentiment_assets.cli.main", "demo", "--no-dashboards"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "succeeded" in proc.stdout
    assert str(warehouse) in proc.stdout
    assert "make dev" in proc.stdout
    assert "corpus: embedded-demo" in proc.stdout
    assert "for demonstration only" in proc.stdout and "SENTIMENT_CORPUS=" in proc.stdout
    assert (warehouse / "catalog.sqlite").is_file()
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        posts = con.sql("select sum(posts) from sentiment_by_job_group_day").fetchone()
    assert posts is not None and posts[0] > 0
    assert f"marts: {warehouse / 'marts.duckdb'} (" in proc.stdout
    instance_dir = tmp_path / "dagster_home"
    assert (instance_dir / "dagster.yaml").is_file()
    with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success


def test_a_failed_asset_names_what_it_kept_from_running() -> None:
    parents = {
        "base_corpus": [],
        "raw_posts": [],
        "lexicon_model": ["base_corpus"],
        "ensemble_model": ["lexicon_model"],
        "predictions": ["raw_posts", "ensemble_model"],
        "keywords": ["raw_posts"],
    }
    missing = ["base_corpus", "lexicon_model", "ensemble_model", "predictions"]
    assert blocked_by(parents, ["base_corpus"], missing) == {
        "base_corpus": ["ensemble_model", "lexicon_model", "predictions"]
    }


def test_a_failed_step_inside_a_graph_backed_asset_is_named_by_its_asset() -> None:
    # labeled_chunks and refined_labels are graphs (read, LLM, write): their step keys are
    # `<asset>.<op>`, and the demo once crashed reporting them instead of naming the asset.
    @dg.asset
    def posts() -> int:
        return 1

    @dg.op
    def read(posts: int) -> int:
        return posts

    @dg.op
    def ask_the_llm(batch: int) -> int:
        raise RuntimeError(f"the LLM refused batch {batch}")

    @dg.graph_asset
    def labels(posts: int) -> int:
        return ask_the_llm(read(posts))

    @dg.asset
    def marts(labels: int) -> int:
        return labels

    definitions = dg.Definitions(assets=[posts, labels, marts])
    result = dg.materialize([posts, labels, marts], raise_on_error=False)
    assert not result.success
    lines = failure_lines(result, definitions.resolve_asset_graph())
    assert lines[0].startswith("failed: labels: ")
    assert "the LLM refused batch 1" in lines[0]
    assert lines[1:] == ["  not run because they need it: marts"]
