"""`monthly_reports`: one HTML report per job group per month, from the readers' marts export."""

import dagster as dg

from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.lakehouse import LakehouseError
from sentiment_assets.lib.marts.published import marts_file
from sentiment_assets.lib.reports.marts import MartsExportError
from sentiment_assets.lib.reports.writer import generate_reports

GROUP = "reports"
REPORTS_DIR = "reports"
"""Folder under the warehouse: reports/<YYYY-MM>/<job_group>.html and reports/index.html."""


@dg.asset(
    group_name=GROUP,
    deps=["marts_export"],
    kinds={"html"},
    # Reviews change labels -> new predictions -> marts -> marts_export; eager re-renders every
    # month after each export, so a report never lags the dashboards ("refresh").
    automation_condition=dg.AutomationCondition.eager(),
    description="warehouse/reports/<YYYY-MM>/<job_group>.html: one self-contained HTML report "
    "per job group per month (statistics against the month before, per-job breakdown, keyword "
    "cloud, weekly trends, representative posts) plus index.html. Reads only the read-only "
    "marts export; every file is replaced atomically.",
)
def monthly_reports(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Render every month's reports from warehouse/marts.duckdb."""
    # Only the folder is taken from the resource: no lakehouse session is opened, so this
    # asset needs no slot in the single-writer pool.
    lake = lakehouse.get()
    root = lake.root
    try:
        run = generate_reports(marts_file(root, lake.location), root / REPORTS_DIR)
    except (MartsExportError, LakehouseError) as exc:
        raise dg.Failure(description=str(exc)) from exc
    if run.message:
        context.log.warning(run.message)
    context.log.info(
        "wrote %d reports for %d months into %s", len(run.written), len(run.months), run.index
    )
    return dg.MaterializeResult(
        metadata={
            "reports_written": len(run.written),
            "months": dg.MetadataValue.json(run.months),
            "job_groups": dg.MetadataValue.json(run.job_groups),
            "index": dg.MetadataValue.path(str(run.index)),
        }
    )
