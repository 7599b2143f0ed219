"""`sentiment rollback [--to VERSION]`: re-point the champion alias to an earlier version."""

from __future__ import annotations

import argparse
import sys


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
    from sentiment_assets.lib.settings import Paths

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
    return 0
