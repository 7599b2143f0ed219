"""`sentiment labels import FILE`: bring hand-labeled posts in as human labels.

The rules (columns, formats, all-or-nothing, re-import as a no-op) are in
`lib/feedback/imports.py`. The labels go to the feedback store, like a reviewer's, so the
`feedback` asset takes them into the lake and `feedback_sensor` counts them toward retraining.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `labels` subcommand and its `import` action."""
    parser = subparsers.add_parser(
        "labels", help="bring hand-labeled posts in as human labels (labels import FILE)"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imports = actions.add_parser(
        "import",
        help="import a CSV, JSON Lines or Parquet file of labeled texts",
        description="Each row needs `text` and `label` (부정/중립/긍정, or negative/neutral/"
        "positive); `board_id`+`post_id` or `url` name the post, `annotator` who labeled it. "
        "Every row is checked before anything is stored: a label outside the set, an empty "
        "text or a post named twice stops the import with the line numbers (exit 2), and "
        "nothing is written. Importing the same file again stores nothing new.",
    )
    imports.add_argument("file", type=Path, help="the labeled file (.csv, .jsonl, .parquet)")
    imports.add_argument(
        "--annotator", help="who labeled rows without an annotator (default: import:<file name>)"
    )
    imports.add_argument(
        "--store",
        type=Path,
        help="the feedback store (default: feedback.sqlite in SENTIMENT_WAREHOUSE)",
    )
    imports.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Check and store the file's labels; 2 with every bad line when it cannot."""
    from sentiment_assets.lib.feedback.imports import LabelImportError, import_labels
    from sentiment_assets.lib.feedback.store import FeedbackError, FeedbackStore, default_path
    from sentiment_assets.lib.settings import Paths

    path: Path = args.file
    if not path.is_file():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    store = FeedbackStore(args.store or default_path(Paths.from_env().warehouse))
    try:
        result = import_labels(path, store, annotator=args.annotator)
    except LabelImportError as exc:
        print(f"error: nothing imported from {path}:\n{exc}", file=sys.stderr)
        return 2
    except FeedbackError as exc:
        print(f"error: nothing imported from {path}: {exc}", file=sys.stderr)
        return 2
    known = result.rows - result.created
    print(
        f"imported {result.created} human labels from {path.name}"
        + (f" ({known} were imported before)" if known else "")
        + f" into {store.path}; the feedback asset takes them into the lake, and they count "
        "toward feedback_sensor's retraining threshold"
    )
    return 0
