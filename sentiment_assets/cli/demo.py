"""`sentiment demo`: run the whole asset graph on embedded defaults."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_assets.lib.settings import PROJECT_ROOT, Paths, ensure_dagster_home

if TYPE_CHECKING:
    import dagster as dg

SUCCESS_LINE = "demo run {run_id}: succeeded"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="materialize every asset end to end (what `make demo` runs)"
    )
    parser.add_argument(
        "--no-dashboards",
        dest="dashboards",
        action="store_false",
        help="skip building the Evidence site after the run",
    )
    parser.set_defaults(handler=run)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def blocked_by(
    parents: Mapping[str, Iterable[str]], failed: Iterable[str], missing: Iterable[str]
) -> dict[str, list[str]]:
    """For each failed asset, the missing assets downstream of it (what it kept from running).

    `parents` maps every asset to the assets it reads; `missing` are those not materialized.
    """
    missing = set(missing)
    children: dict[str, set[str]] = {}
    for child, direct in parents.items():
        for parent in direct:
            children.setdefault(parent, set()).add(child)
    out: dict[str, list[str]] = {}
    for root in failed:
        seen: set[str] = set()
        stack = [root]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child in missing and child not in seen and child != root:
                    seen.add(child)
                    stack.append(child)
        out[root] = sorted(seen)
    return out


def failure_lines(result: dg.ExecuteInProcessResult, graph: dg.AssetGraph) -> list[str]:
    """Which assets failed, why, and which assets they kept from running."""
    # A step key is its node's name, or `<graph>.<op>` for a graph-backed asset's steps
    # (labeled_chunks, refined_labels): either way its first part names the asset's node.
    errors: dict[str, str] = {}
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        # Dagster wraps the asset's own exception ("Error occurred while executing op ..."):
        # the innermost cause is what the user can act on.
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip().splitlines()[0] if error else "unknown error"
        errors.setdefault(str(event.step_key).split(".")[0], message)
    keys = list(graph.get_all_asset_keys())
    names = {key: key.to_user_string() for key in keys}
    node = {names[k]: graph.get(k).assets_def.node_def.name for k in keys}
    done = {e.asset_key for e in result.get_asset_materialization_events() if e.asset_key}
    missing = [names[k] for k in keys if k not in done]
    failed = [names[k] for k in keys if node[names[k]] in errors and k not in done]
    parents = {names[k]: [names[p] for p in graph.get(k).parent_keys] for k in keys}
    lines = []
    for asset, downstream in blocked_by(parents, failed, missing).items():
        lines.append(f"failed: {asset}: {errors[node[asset]]}")
        if downstream:
            lines.append(f"  not run because they need it: {', '.join(downstream)}")
    return lines


def _corpus_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    from sentiment_assets.lib.corpus.embedded import DEMO_NOTICE

    for event in result.get_asset_materialization_events():
        if event.asset_key is None or event.asset_key.to_user_string() != "base_corpus":
            continue
        metadata = event.materialization.metadata
        source = metadata.get("source")
        demo_only = metadata.get("demonstration_only")
        name = getattr(source, "value", source)
        if getattr(demo_only, "value", demo_only):
            return [f"corpus: {name}", f"note: {DEMO_NOTICE}"]
        return [f"corpus: {name} (real labeled data)"]
    return []


def _marts_line(export: Path) -> str:
    import duckdb

    with duckdb.connect(str(export), read_only=True) as con:
        (tables,) = con.execute("select count(*) from duckdb_tables()").fetchone() or (0,)
    return f"marts: {_display(export)} ({tables} tables, plain DuckDB: query it with SQL)"


def _build_dashboards(marts: Path) -> str:
    """Build the Evidence site from the fresh marts; one line saying where it is, or why not."""
    from sentiment_assets.lib.dashboards.build import (
        DASHBOARDS_DIR,
        DashboardBuildError,
        build_dashboards,
    )
    from sentiment_assets.lib.dashboards.node import NodeToolchainError

    try:
        built = build_dashboards(marts, DASHBOARDS_DIR)
    except (DashboardBuildError, NodeToolchainError) as exc:
        raise SystemExit(f"sentiment demo: the dashboards did not build: {exc}") from exc
    return (
        f"dashboards: {len(built.pages)} pages in {_display(built.build_dir)}/ "
        "(`.venv/bin/sentiment dashboards serve` -> http://127.0.0.1:4190/)"
    )


def run(args: argparse.Namespace) -> int:
    """Execute `demo_job` as a real run recorded in the Dagster instance, then say where to look."""
    ensure_dagster_home()
    # Imported late: Dagster and the definitions take seconds to load; `--help` should not wait.
    import dagster as dg

    from sentiment_assets.definitions import defs
    from sentiment_assets.defs.dbt.assets import EXPORT_FILE
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
    if not result.success:
        print(f"demo run {result.run_id}: FAILED")
        print(f"materialized ({len(materialized)}): {', '.join(materialized) or 'nothing'}")
        for line in failure_lines(result, definitions.resolve_asset_graph()):
            print(line)
        return 1
    dashboards = _build_dashboards(paths.warehouse / EXPORT_FILE) if args.dashboards else None
    # The summary comes last, after the dashboards build's own output, so it is what is seen.
    print()
    print(SUCCESS_LINE.format(run_id=result.run_id))
    print(f"materialized ({len(materialized)}): {', '.join(materialized)}")
    snapshot = Lakehouse(paths.warehouse).current_snapshot_id()
    where = _display(paths.warehouse)
    print(f"lakehouse: {where}/ (DuckLake catalog.sqlite + data/), snapshot {snapshot}")
    print(_marts_line(paths.warehouse / EXPORT_FILE))
    print(f"dagster instance: {_display(paths.dagster_home)}/ (runs, materializations, logs)")
    if dashboards:
        print(dashboards)
    print("look around: `make dev`, then open http://127.0.0.1:3000 (the demo run is listed)")
    for line in _corpus_lines(result):
        print(line)
    return 0
