"""`sentiment serve`: the prediction, feedback and review API under uvicorn."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP API (predict, feedback, review queue); needs SENTIMENT_API_TOKEN",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from the environment and serve it until interrupted."""
    # Imported late: `sentiment --help` should not pay for FastAPI and the models.
    import uvicorn

    from sentiment_assets.lib.serving.app import create_app
    from sentiment_assets.lib.serving.settings import ServingSettings

    try:
        settings = ServingSettings.from_env()
    except ValueError as exc:
        print(f"sentiment serve: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    print(f"API docs: http://{args.host}:{args.port}/docs")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
