"""`sentiment reviewers create|list|revoke`: the people whose API tokens may write labels.

The API names the reviewer of every write after the token it came with, so a person gets a
token here (printed once; the store keeps only its SHA-256 digest) and loses it with `revoke`.
`create NAME --adopt-shared-token` takes over the value of SENTIMENT_API_TOKEN, the single
token of older deployments, as NAME's token, so clients that still send it keep working under
a named reviewer.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentiment_assets.lib.feedback.store import FeedbackStore

SHARED_TOKEN_ENV = "SENTIMENT_API_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `reviewers` subcommand and its actions."""
    parser = subparsers.add_parser(
        "reviewers", help="create, list and revoke reviewers' API tokens"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    store_help = "the feedback store (default: feedback.sqlite in SENTIMENT_WAREHOUSE)"

    create = actions.add_parser(
        "create",
        help="give a reviewer a token (printed once)",
        description="Prints the new token on stdout, once: hand it to the reviewer. The store "
        "keeps only its digest, so a lost token cannot be shown again; revoke it and create "
        "another. A reviewer has one active token at a time.",
    )
    create.add_argument("name", help="the reviewer, as the audit trail will name them")
    create.add_argument(
        "--adopt-shared-token",
        action="store_true",
        help=f"register the value of {SHARED_TOKEN_ENV} (the old shared token) as this "
        "reviewer's token instead of a new random one",
    )
    create.add_argument("--store", type=Path, help=store_help)
    create.set_defaults(handler=run_create)

    listing = actions.add_parser("list", help="reviewers with an active token")
    listing.add_argument("--all", action="store_true", help="revoked tokens too")
    listing.add_argument("--store", type=Path, help=store_help)
    listing.set_defaults(handler=run_list)

    revoke = actions.add_parser(
        "revoke", help="revoke a reviewer's token; the API refuses it from the next request"
    )
    revoke.add_argument("name", help="the reviewer")
    revoke.add_argument("--store", type=Path, help=store_help)
    revoke.set_defaults(handler=run_revoke)


def _store(args: argparse.Namespace) -> FeedbackStore:
    # Imported late: `sentiment --help` should not pay for the store's imports.
    from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
    from sentiment_assets.lib.settings import Paths

    return FeedbackStore(args.store or default_path(Paths.from_env().warehouse))


def run_create(args: argparse.Namespace) -> int:
    """Create the token and print it; 2 when the name or the adopted token is refused."""
    from sentiment_assets.lib.feedback.store import FeedbackError

    adopted = None
    if args.adopt_shared_token:
        adopted = os.environ.get(SHARED_TOKEN_ENV, "").strip()
        if not adopted:
            print(f"error: {SHARED_TOKEN_ENV} is not set; nothing to adopt", file=sys.stderr)
            return 2
    store = _store(args)
    try:
        token = store.create_reviewer(args.name, token=adopted)
    except FeedbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    name = args.name.strip()
    if adopted is not None:
        print(
            f"{SHARED_TOKEN_ENV}'s value is now {name}'s token; clients sending it write as "
            f"{name}. Unset {SHARED_TOKEN_ENV} on the server.",
            file=sys.stderr,
        )
        return 0
    print(token)
    print(
        f"the token above is {name}'s and is shown only this once; send it as "
        "`Authorization: Bearer <token>` (the review app asks for it)",
        file=sys.stderr,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print one line per token: reviewer, created, revoked (or active)."""
    tokens = _store(args).reviewer_tokens(include_revoked=args.all)
    if not tokens:
        print("no reviewers" + ("" if args.all else " with an active token"))
        return 0
    width = max(len(t.reviewer) for t in tokens)
    for t in tokens:
        state = "active" if t.active else f"revoked {t.revoked_at}"
        print(f"{t.reviewer:<{width}}  created {t.created_at}  {state}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke the reviewer's active token; 2 when there is none."""
    from sentiment_assets.lib.feedback.store import FeedbackError

    try:
        record = _store(args).revoke_reviewer(args.name)
    except FeedbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"revoked {record.reviewer}'s token (created {record.created_at})")
    return 0
