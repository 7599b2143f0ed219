"""`sentiment dashboards build|serve`: the Evidence site over the marts export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `dashboards` subcommand with `install`, `build` and `serve`."""
    parser = subparsers.add_parser(
        "dashboards", help="build (offline) or serve the Evidence dashboards over the marts"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = actions.add_parser(
        "install", help="npm ci into dashboards/node_modules unless it is current (needs npm once)"
    )
    install.set_defaults(handler=run_install)
    build = actions.add_parser(
        "build",
        help="npm ci if needed, then evidence sources + build offline into dashboards/build",
    )
    build.add_argument(
        "--marts",
        type=Path,
        default=None,
        help="the marts export to read (default: $SENTIMENT_WAREHOUSE/marts.duckdb)",
    )
    build.add_argument(
        "--project",
        type=Path,
        default=None,
        help="the Evidence project folder (default: dashboards/ of this checkout)",
    )
    build.set_defaults(handler=run_build)
    serve = actions.add_parser("serve", help="serve dashboards/build on 127.0.0.1")
    serve.add_argument("--port", type=int, default=4190, help="port to listen on (4190)")
    serve.add_argument(
        "--dir", type=Path, default=None, help="the built site (default: dashboards/build)"
    )
    serve.set_defaults(handler=run_serve)


def run_install(_args: argparse.Namespace) -> int:
    """Install Evidence's packages now, so a later build needs no registry."""
    from sentiment_assets.lib.dashboards.build import (
        DASHBOARDS_DIR,
        DashboardBuildError,
        ensure_node_modules,
    )
    from sentiment_assets.lib.dashboards.node import NodeToolchain, NodeToolchainError

    logs = DASHBOARDS_DIR / ".evidence"
    logs.mkdir(exist_ok=True)
    try:
        installed = ensure_node_modules(
            DASHBOARDS_DIR, NodeToolchain.from_wheel(), log=logs / "sentiment-install.log"
        )
    except (DashboardBuildError, NodeToolchainError) as exc:
        print(f"sentiment dashboards install: {exc}", file=sys.stderr)
        return 1
    print("dashboards: packages " + ("installed" if installed else "already current"))
    return 0


def run_build(args: argparse.Namespace) -> int:
    """Build the site; a failed step prints why and returns 1."""
    from sentiment_assets.lib.dashboards.build import (
        DASHBOARDS_DIR,
        DashboardBuildError,
        build_dashboards,
    )
    from sentiment_assets.lib.dashboards.node import NodeToolchainError
    from sentiment_assets.lib.lakehouse import LakehouseError
    from sentiment_assets.lib.marts.published import marts_file
    from sentiment_assets.lib.settings import Paths

    try:
        marts = args.marts or marts_file(Paths.from_env().warehouse)
        result = build_dashboards(marts, args.project or DASHBOARDS_DIR)
    except (DashboardBuildError, NodeToolchainError, LakehouseError) as exc:
        print(f"sentiment dashboards build: {exc}", file=sys.stderr)
        return 1
    steps = ", ".join(f"{name} {secs:.0f} s" for name, secs in result.seconds.items())
    print(f"dashboards: {len(result.pages)} pages in {result.build_dir} ({steps})")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve the built site until interrupted."""
    from sentiment_assets.lib.dashboards.build import DASHBOARDS_DIR
    from sentiment_assets.lib.dashboards.serve import make_server

    try:
        server = make_server(args.dir or DASHBOARDS_DIR / "build", args.port)
    except (FileNotFoundError, OSError) as exc:
        print(f"sentiment dashboards serve: {exc}", file=sys.stderr)
        return 1
    print(f"dashboards: http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
