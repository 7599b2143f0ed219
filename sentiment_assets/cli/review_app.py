"""`sentiment review-app`: the Streamlit review app on 127.0.0.1, a client of `sentiment serve`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

# Kept here, not imported from the app's client: `sentiment --help` should not import httpx.
API_URL_ENV = "SENTIMENT_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:8000"

APP = Path(__file__).resolve().parents[1] / "review_app" / "app.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `review-app` subcommand."""
    parser = subparsers.add_parser(
        "review-app", help="run the review app (analyse, correct, review queue) in Streamlit"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8501, help="port to listen on (8501)")
    parser.add_argument(
        "--api-url",
        default=os.environ.get(API_URL_ENV) or DEFAULT_API_URL,
        help=f"the serving API it reads and writes through ({API_URL_ENV}, else {DEFAULT_API_URL})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start Streamlit on the app script; returns its exit code."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    return subprocess.call(command, env=os.environ | {API_URL_ENV: args.api_url})
