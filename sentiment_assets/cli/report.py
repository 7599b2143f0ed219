"""`sentiment report`: the monthly HTML reports, outside Dagster, with the asset's code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write the monthly HTML report of each job group from the marts export",
        description="Render <output>/<YYYY-MM>/<job_group>.html and <output>/index.html from "
        "the readers' marts export, the same way the monthly_reports asset does.",
    )
    parser.add_argument("--month", help="only this month, YYYY-MM (default: every month)")
    parser.add_argument("--output", type=Path, help="output folder (default: <warehouse>/reports)")
    parser.add_argument(
        "--marts", type=Path, help="marts export to read (default: <warehouse>/marts.duckdb)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the reports and print a JSON summary; exit 1 when nothing was written."""
    from sentiment_assets.lib.lakehouse import LakehouseError
    from sentiment_assets.lib.marts.published import marts_file
    from sentiment_assets.lib.reports.marts import MartsExportError
    from sentiment_assets.lib.reports.months import Month, MonthFormatError
    from sentiment_assets.lib.reports.writer import generate_reports
    from sentiment_assets.lib.settings import Paths

    warehouse = Paths.from_env().warehouse
    try:
        month = Month.parse(args.month) if args.month else None
        result = generate_reports(
            args.marts or marts_file(warehouse),
            args.output or warehouse / "reports",
            month=month,
        )
    except (MonthFormatError, MartsExportError, LakehouseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.message:
        print(result.message, file=sys.stderr)
    summary = {
        "reports_written": len(result.written),
        "months": result.months,
        "job_groups": result.job_groups,
        "index": str(result.index) if result.index else None,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if result.written else 1
