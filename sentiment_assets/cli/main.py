"""Entry point of the `sentiment` console script.

Each subcommand lives in its own module exposing `register(subparsers)`; adding one is adding a
module and a line to `SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS = (
    "sentiment_assets.cli.demo",
    "sentiment_assets.cli.demo_distributed",
    "sentiment_assets.cli.train",
    "sentiment_assets.cli.predict",
    "sentiment_assets.cli.evaluate",
    "sentiment_assets.cli.rollback",
    "sentiment_assets.cli.crawl",
    "sentiment_assets.cli.label",
    "sentiment_assets.cli.labels",
    "sentiment_assets.cli.serve",
    "sentiment_assets.cli.review_app",
    "sentiment_assets.cli.reviewers",
    "sentiment_assets.cli.report",
    "sentiment_assets.cli.dashboards",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="sentiment",
        description="maple-sentiment: crawl, label, score and monitor MapleStory community posts.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen subcommand; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
