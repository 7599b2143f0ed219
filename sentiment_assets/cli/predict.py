"""`sentiment predict`: score a CSV, Parquet or JSONL file with the champion ensemble."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BATCH = 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `predict` subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="score every row of a CSV/Parquet/JSONL file; output format follows OUT's extension",
    )
    parser.add_argument("input", type=Path, help="input file (.csv, .parquet or .jsonl)")
    parser.add_argument("--text-column", default="text", help="column holding the text")
    parser.add_argument("--output", "-o", type=Path, required=True, help="output file")
    parser.add_argument(
        "--model-version",
        help="ensemble version directory or registry version number "
        "(default: the registry's champion)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the ensemble (or stop naming the broken file), predict, write one row per input row.

    Output columns: the input's columns (renamed `<name>_input` where they clash), then p_neg,
    p_neu, p_pos, label, confidence, disagreement, status, each member's probabilities and
    model_version. Empty or whitespace-only texts get status `empty` and no label.
    """
    import pandas as pd

    from sentiment_assets.cli.tables import TableFormatError, read_table, write_table
    from sentiment_assets.lib.models.base import ModelLoadError
    from sentiment_assets.lib.registry.resolve import RegistryError, resolve_ensemble
    from sentiment_assets.lib.settings import Paths

    try:
        frame = read_table(args.input, text_columns=(args.text_column,))
        if args.text_column not in frame.columns:
            raise TableFormatError(
                f"{args.input} has no column {args.text_column!r} (columns: {list(frame.columns)})"
            )
        if args.output.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
            raise TableFormatError(f"{args.output}: output must end in .csv, .parquet or .jsonl")
        ensemble = resolve_ensemble(Paths.from_env().models, args.model_version)
    except (TableFormatError, ModelLoadError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    texts = [None if pd.isna(t) else str(t) for t in frame[args.text_column]]
    parts = [ensemble.predict(texts[i : i + BATCH]).frame() for i in range(0, len(texts), BATCH)]
    predictions = pd.concat(parts, ignore_index=True) if parts else ensemble.predict([]).frame()
    clashes = {c: f"{c}_input" for c in frame.columns if c in predictions.columns}
    out = pd.concat([frame.rename(columns=clashes).reset_index(drop=True), predictions], axis=1)
    write_table(out, args.output)
    counts = out["label"].value_counts().to_dict()
    print(
        f"{len(out)} rows scored with ensemble {ensemble.version} -> {args.output} "
        f"(labels {counts}, empty {int((out['status'] == 'empty').sum())})"
    )
    return 0
