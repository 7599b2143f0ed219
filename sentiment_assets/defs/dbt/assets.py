"""The marts: dbt models over the lakehouse, the keywords they read, and the readers' export."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from sentiment_assets.defs.dbt.resources import dbt_project
from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.marts.export import export_marts
from sentiment_assets.lib.marts.keywords import post_keywords as extract_keywords
from sentiment_assets.lib.marts.published import publish

GROUP = "marts"
EXPORT_FILE = "marts.duckdb"
# The lake table each dbt source reads -> the asset that writes it. crawl_errors is a side table
# of the crawl (raw_posts writes it in the same step), so its lineage points there.
# serving_models is written by whichever asset scores for the champion; its lineage points at
# champion_predictions so that a run holding both builds the marts only after the post-gate
# scoring, never between a promotion and its scores.
SOURCE_ASSETS = {
    "raw_posts": "raw_posts",
    "crawl_errors": "raw_posts",
    "ensemble_predictions": "ensemble_predictions",
    "labeled_chunks": "labeled_chunks",
    "feedback": "feedback",
    "post_keywords": "post_keywords",
    "refined_labels": "refined_labels",
    "serving_models": "champion_predictions",
}
# dbt's models, post_keywords and marts_export, then what renders from the export (the monthly
# reports). The jobs that change what the marts show (labeling, retraining, marts_job) run it
# whole at their end, so the marts follow the champion inside the run that changes it, without
# depending on the automation sensor being switched on.
MARTS_SELECTION = (
    dg.AssetSelection.groups(GROUP) | dg.AssetSelection.from_string('key:"marts_export"+')
) & dg.AssetSelection.all()
KEYWORD_BATCH = 2_000
"""Posts analysed and committed per batch: a failure keeps the batches already written."""


class MartsTranslator(DagsterDbtTranslator):
    """dbt sources are the Python assets of the same name; every dbt model is in `marts`."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """Sources become the assets that write them; models keep their names, group marts."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        # Model names are unique in a dbt project, so the flat name is key enough and matches
        # the table name readers see in marts.duckdb.
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey(SOURCE_ASSETS[props["name"]]))
        key = dg.AssetKey(props["name"])
        return spec.replace_attributes(
            key=key, group_name=GROUP, automation_condition=dg.AutomationCondition.eager()
        )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=MartsTranslator(
        settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
    ),
    name="sentiment_marts",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
)
def sentiment_marts(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
) -> Iterator[Any]:
    """`dbt build` of the selected models into lake.staging, lake.intermediate and lake.marts.

    Grains are stated per model in dbt_project/models/**/_*.yml; dbt tests arrive as asset checks.
    """
    lake = lakehouse.get()
    with lake.session() as session:
        absent = [source for source in SOURCE_ASSETS if not session.table_exists(source)]
    if absent:
        context.log.warning(
            "lake tables not written yet: %s; their staging models build empty", ", ".join(absent)
        )
    dbt_vars = json.dumps({"warehouse": str(lake.root)})
    yield from dbt.cli(["build", "--vars", dbt_vars], context=context).stream()


MART_KEYS = [
    dg.AssetKey(node["name"])
    for node in json.loads(dbt_project.manifest_path.read_text())["nodes"].values()
    if node["resource_type"] == "model" and node["config"].get("schema") == GROUP
]
"""The tables dbt builds in lake.marts: what marts_export copies."""


@dg.asset(
    group_name=GROUP,
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    deps=["raw_posts"],
    kinds={"python", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
    description="One row per post per keyword (board_id, post_id, keyword): Kiwi nouns of title "
    "and body, stopwords and one-character nouns removed. Only posts not yet analysed are read.",
)
def post_keywords(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Extract keywords of the posts that have none yet and append them to the lake."""
    with lakehouse.get().session() as lake:
        if not lake.table_exists("raw_posts"):
            context.log.warning("lake.raw_posts does not exist yet: no posts to analyse")
            return dg.MaterializeResult(metadata={"posts_analysed": 0, "rows_written": 0})
        pending_sql = "select board_id, post_id, title, body from lake.raw_posts"
        if lake.table_exists("post_keywords"):
            # Posts with no keyword at all are analysed again next time; they are rare and cheap.
            pending_sql += " anti join lake.post_keywords using (board_id, post_id)"
        pending = lake.query(pending_sql + " order by board_id, post_id")
        written = 0
        snapshot_id = None
        for start in range(0, len(pending), KEYWORD_BATCH):
            keywords = extract_keywords(pending.iloc[start : start + KEYWORD_BATCH])
            if keywords.empty:
                continue
            result = lake.append("post_keywords", keywords, key=("board_id", "post_id", "keyword"))
            written += result.rows_written
            snapshot_id = result.snapshot_id or snapshot_id
        distinct = 0
        if lake.table_exists("post_keywords"):
            row = lake.con.execute(
                "select count(distinct keyword) from lake.post_keywords"
            ).fetchone()
            distinct = int(row[0]) if row else 0
    context.log.info("analysed %d posts, wrote %d keyword rows", len(pending), written)
    return dg.MaterializeResult(
        metadata={
            "posts_analysed": len(pending),
            "rows_written": written,
            "distinct_keywords": distinct,
            "snapshot_id": snapshot_id,
        }
    )


@dg.asset(
    group_name=GROUP,
    deps=MART_KEYS,
    kinds={"duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
    description="warehouse/marts.duckdb: a read-only copy of every table in lake.marts (same "
    "grains) plus export_info, replaced atomically so readers never open the writer's catalog.",
)
def marts_export(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Copy the marts into the readers' DuckDB file (and to object storage with the lake)."""
    lake = lakehouse.get()
    result = export_marts(lake, lake.root / EXPORT_FILE)
    context.log.info("exported %d marts to %s", len(result.rows_by_table), result.path)
    published = publish(result.path, lake.location)
    extra: dict[str, Any] = {}
    if published is not None:
        context.log.info("published them to %s%s/", published.url, published.export_id)
        extra = {"published_url": f"{published.url}{published.export_id}/"}
    return dg.MaterializeResult(
        metadata={
            **extra,
            "path": dg.MetadataValue.path(str(result.path)),
            "tables": len(result.rows_by_table),
            "rows": sum(result.rows_by_table.values()),
            "rows_by_table": dg.MetadataValue.json(result.rows_by_table),
            "lake_snapshot_id": result.snapshot_id,
        }
    )
