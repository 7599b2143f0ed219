"""`sentiment demo`: run the whole asset graph on embedded defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

from sentiment_assets.lib.settings import PROJECT_ROOT, Paths, ensure_dagster_home


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="materialize every asset end to end (what `make demo` runs)"
    )
    parser.set_defaults(handler=run)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def run(_args: argparse.Namespace) -> int:
    """Execute `demo_job` as a real run recorded in the Dagster instance, then say where to look."""
    ensure_dagster_home()
    # Imported late: Dagster and the definitions take seconds to load; `--help` should not wait.
    import dagster as dg

    from sentiment_assets.definitions import defs
    from sentiment_assets.lib.lakehouse import Lakehouse

    definitions = defs()
    job = definitions.resolve_job_def("demo_job")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    paths = Paths.from_env()
    materialized = sorted(
        event.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    )
    print()
    print(f"demo run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    print(f"materialized ({len(materialized)}): {', '.join(materialized) or 'nothing'}")
    if not result.success:
        return 1
    snapshot = Lakehouse(paths.warehouse).current_snapshot_id()
    where = _display(paths.warehouse)
    print(f"lakehouse: {where}/ (DuckLake catalog.sqlite + data/), snapshot {snapshot}")
    print(f"dagster instance: {_display(paths.dagster_home)}/ (runs, materializations, logs)")
    print("look around: `make dev`, then open http://127.0.0.1:3000 (the demo run is listed)")
    return 0
