"""`sentiment rollback [--to VERSION]`: re-point the champion alias to an earlier version.

A rollback is also a change of what the marts show, so it ends by scoring, with the restored
champion, the posts it has not scored yet (those crawled while the demoted one served) and
recording it as the marts' model (`lib/marts/serving.py`); the next marts refresh (`marts_job`)
then shows exactly its numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sentiment_assets.lib.settings import Paths

MARTS_REFRESH = "dagster job launch -j marts_job -w workspace.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `rollback` subcommand."""
    parser = subparsers.add_parser(
        "rollback",
        help="make the previous champion (or --to VERSION) serve again; nothing is deleted",
    )
    parser.add_argument(
        "--to",
        help="registry version number to serve (e.g. 3 or v3; default: the previous champion)",
    )
    parser.add_argument(
        "--list", action="store_true", help="only list registered versions and aliases"
    )
    parser.set_defaults(handler=run)


def _listing(registry: object) -> str:
    from sentiment_assets.lib.registry.store import ModelRegistry

    assert isinstance(registry, ModelRegistry)
    aliases = registry.aliases()
    by_number: dict[int, list[str]] = {}
    for alias, number in aliases.items():
        by_number.setdefault(number, []).append(alias)
    lines = [f"{'version':<8} {'aliases':<20} {'status':<16} directory"]
    for version in registry.versions():
        lines.append(
            f"v{version.number:<7} {','.join(sorted(by_number.get(version.number, []))):<20} "
            f"{version.tags.get('gate.status', ''):<16} ensemble/{version.version}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Move the champion alias; the serving API and every reader follow on their next load."""
    from sentiment_assets.lib.registry.store import ModelRegistry, RegistryError

    registry = ModelRegistry(Paths.from_env().models)
    if args.list:
        print(_listing(registry))
        return 0
    target = None
    if args.to is not None:
        raw = args.to.removeprefix("v")
        if not raw.isdigit():
            print(f"error: --to takes a registry version number, got {args.to!r}", file=sys.stderr)
            return 2
        target = int(raw)
    try:
        change = registry.rollback(target)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    before = change.previous.describe() if change.previous else "none"
    print(f"champion: {before} -> {change.current.describe()}")
    paths = Paths.from_env()
    return _score_for_marts(paths.warehouse, paths.models, reason=f"rollback: {before} demoted")


def _score_for_marts(warehouse: Path, models: Path, *, reason: str) -> int:
    """Score what the new champion lacks and make it the marts' model; 1 if it cannot."""
    from sentiment_assets.lib.lakehouse import Lakehouse
    from sentiment_assets.lib.marts.serving import load_serving, score_for_serving
    from sentiment_assets.lib.models.base import ModelLoadError

    lake = Lakehouse(warehouse)
    if not lake.catalog_path.exists():
        print(f"no lakehouse at {warehouse}: no posts to score")
        return 0
    try:
        champion = load_serving(models)
    except ModelLoadError as exc:
        print(f"error: the new champion cannot score posts: {exc}", file=sys.stderr)
        return 1
    try:
        with lake.session() as session:
            report = score_for_serving(session, champion, reason=reason)
    except ModelLoadError as exc:
        print(f"error: the new champion cannot score posts: {exc}", file=sys.stderr)
        return 1
    version = champion.version
    print(f"scored {report.posts_scored} posts it had not scored yet with {version}")
    if report.posts_pending:
        print(
            f"{report.posts_pending} posts are still unscored: the marts keep showing the model "
            f"before until a marts refresh scores them: {MARTS_REFRESH}"
        )
    else:
        print(f"the marts show {version} after their next refresh: {MARTS_REFRESH}")
    return 0
