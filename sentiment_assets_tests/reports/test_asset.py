"""The monthly_reports asset: a real materialization, and its refresh after marts_export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.reports.assets import monthly_reports
from sentiment_assets_tests.reports.marts_file import Post, write_marts

POSTS = [
    Post(1, "마법사", "비숍", date(2025, 4, 1), "긍정", keywords=("힐",)),
    Post(2, "도적", "섀도어", date(2025, 4, 2), "부정"),
    Post(3, "도적", "섀도어", date(2025, 5, 7), "중립"),
]


def test_materialize_writes_every_month_with_metadata(warehouse: Path) -> None:
    warehouse.mkdir(parents=True)
    write_marts(warehouse / "marts.duckdb", POSTS)
    result = dg.materialize(
        [monthly_reports], resources={"lakehouse": LakehouseResource(path=str(warehouse))}
    )
    assert result.success
    metadata = result.asset_materializations_for_node("monthly_reports")[0].metadata
    assert metadata["reports_written"].value == 4  # both groups, both months
    assert metadata["months"].value == ["2025-04", "2025-05"]
    assert metadata["job_groups"].value == ["마법사", "도적"]
    reports = warehouse / "reports"
    assert (reports / "index.html").is_file()
    assert (reports / "2025-05" / "마법사.html").is_file()  # silent after April: says so
    assert 'data-empty="month"' in (reports / "2025-05" / "마법사.html").read_text("utf-8")


def test_missing_export_fails_the_step_with_the_reason(warehouse: Path) -> None:
    warehouse.mkdir(parents=True)
    result = dg.materialize(
        [monthly_reports],
        resources={"lakehouse": LakehouseResource(path=str(warehouse))},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None and "materialize marts_export first" in str(failure.description)


def test_a_new_marts_export_requests_a_refresh() -> None:
    @dg.asset(name="marts_export")
    def export_stand_in() -> None:
        """Stands in for marts_export (its dbt upstream is not needed to test the trigger)."""

    instance = dg.DagsterInstance.ephemeral()
    defs = dg.Definitions(
        assets=[export_stand_in, monthly_reports], resources={"lakehouse": LakehouseResource()}
    )
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    # Nothing exported yet: no report run is requested.
    assert first.get_num_requested(monthly_reports.key) == 0
    instance.report_runless_asset_event(dg.AssetMaterialization("marts_export"))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_num_requested(monthly_reports.key) == 1
    # Once refreshed, the same export does not trigger again.
    instance.report_runless_asset_event(dg.AssetMaterialization("monthly_reports"))
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.get_num_requested(monthly_reports.key) == 0
