"""`sentiment serve`: the prediction, feedback and review API under uvicorn."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentiment_assets.lib.feedback.store import FeedbackStore
    from sentiment_assets.lib.serving.settings import ServingSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP API (predict, feedback, review queue); writes need a reviewer token "
        "(sentiment reviewers create NAME)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.set_defaults(handler=run)


def startup_notes(settings: ServingSettings, store: FeedbackStore) -> list[str]:
    """What an operator starting the API should know about who can write."""
    from sentiment_assets.lib.serving.settings import TOKEN_ENV

    notes = []
    if settings.shared_token:
        owner = store.token_owner(settings.shared_token)
        if owner is None:
            notes.append(
                f"{TOKEN_ENV} is set, but a shared token no longer authorises writes: its "
                "senders get 403. Give each reviewer a token (sentiment reviewers create NAME), "
                "or register it as one reviewer's (sentiment reviewers create NAME "
                "--adopt-shared-token)."
            )
        else:
            notes.append(
                f"{TOKEN_ENV} is {owner.reviewer}'s token now"
                + ("" if owner.active else " (revoked)")
                + f"; unset {TOKEN_ENV}."
            )
    if not store.reviewer_tokens():
        notes.append(
            "no reviewer has a token yet, so every write is refused: "
            "sentiment reviewers create NAME"
        )
    return notes


def run(args: argparse.Namespace) -> int:
    """Build the app from the environment and serve it until interrupted."""
    # Imported late: `sentiment --help` should not pay for FastAPI and the models.
    import uvicorn

    from sentiment_assets.lib.serving.app import create_app
    from sentiment_assets.lib.serving.settings import ServingSettings

    settings = ServingSettings.from_env()
    app = create_app(settings)
    for note in startup_notes(settings, app.state.store):
        print(f"note: {note}")
    print(f"API docs: http://{args.host}:{args.port}/docs")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
