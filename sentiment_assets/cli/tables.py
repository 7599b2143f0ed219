"""Read and write tabular files by extension: CSV, Parquet and JSON lines."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

FORMATS = (".csv", ".parquet", ".jsonl")


class TableFormatError(ValueError):
    """A file's extension is not one of `FORMATS`, or the file cannot be parsed."""


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TableFormatError(f"{path}: unsupported format {suffix or '(none)'}; use {FORMATS}")
    return suffix


def read_table(path: Path, *, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of a CSV, Parquet or JSONL file, in file order.

    CSV cells of `text_columns` are read verbatim: a review that says "NA" or "null" stays text
    instead of turning into a missing value.
    """
    suffix = _format(path)
    if not path.is_file():
        raise TableFormatError(f"{path} does not exist")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, converters=dict.fromkeys(text_columns, str))
        if suffix == ".parquet":
            return pd.read_parquet(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        return pd.DataFrame.from_records([json.loads(line) for line in lines if line.strip()])
    except (OSError, ValueError) as exc:
        raise TableFormatError(f"{path} could not be read as {suffix[1:]}: {exc}") from exc


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` in the format of `path`'s extension, atomically (temp file + rename)."""
    suffix = _format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if suffix == ".csv":
            frame.to_csv(temporary, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_json(temporary, orient="records", lines=True, force_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
