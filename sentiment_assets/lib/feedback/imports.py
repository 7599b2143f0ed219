"""Hand-labeled posts from a file, brought in as human labels with their provenance.

A team that already holds labeled posts imports them once (`sentiment labels import FILE`);
each row becomes a feedback row (source `import`, reviewer = the annotator, comment = file and
line), exactly like a reviewer's correction, so it reaches refinement, training and the gate.

The file is CSV (header row), JSON Lines or Parquet, by extension. Columns:

| column | required | meaning |
|---|---|---|
| `text` | yes | the labeled text (a post's title and body, or any sentence) |
| `label` | yes | 부정 / 중립 / 긍정 (or negative / neutral / positive) |
| `board_id`, `post_id` | no | the Inven post the text is (both or neither) |
| `url` | no | the post's article URL, `.../board/maple/<board>/<post>`, instead of the ids |
| `annotator` | no | who labeled it (else the importer's `--annotator`, else `import:<file>`) |

All or nothing: every row is checked first (a label outside the set, an empty text, a post named
twice, a malformed id or URL), every problem is reported with its line (CSV and JSON Lines) or
row (Parquet) number, and nothing is written unless the whole file is clean; then all rows are
stored in one transaction. Each row's idempotency key is a hash of what it says, so importing
the same file again stores nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sentiment_assets.lib.crawl.urls import ARTICLE_PATH
from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore
from sentiment_assets.lib.models.base import LABELS

SOURCE = "import"
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
REQUIRED = ("text", "label")
OPTIONAL = ("board_id", "post_id", "url", "annotator")
_ALIASES = {"negative": "부정", "neutral": "중립", "positive": "긍정"}
MAX_REPORTED = 50


class LabelImportError(ValueError):
    """The file cannot be imported; `problems` lists every bad row (nothing was written)."""

    def __init__(self, problems: list[str]):
        """Hold `problems`, one line each."""
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more else [])))
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    """What an import stored."""

    rows: int
    created: int
    """Rows stored now; the others were in the store already (an earlier import)."""


@dataclass(frozen=True)
class _Row:
    where: str
    """`line 3` or `row 3`: where a person finds the row in the file."""
    values: dict[str, Any]
    error: str | None = None
    """Why the row could not even be read (then `values` is empty)."""


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _read_csv(path: Path) -> Iterator[_Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        _check_columns(list(reader.fieldnames or []), "the header")
        start = reader.line_num + 1
        for record in reader:
            if None in record:
                yield _Row(f"line {start}", {}, "more fields than the header has")
            else:
                yield _Row(f"line {start}", dict(record))
            start = reader.line_num + 1


def _read_jsonl(path: Path) -> Iterator[_Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield _Row(f"line {number}", {}, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(record, dict):
                yield _Row(f"line {number}", {}, "expected a JSON object")
                continue
            yield _Row(f"line {number}", record)


def _read_parquet(path: Path) -> Iterator[_Row]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    _check_columns(table.column_names, "the file")
    for number, record in enumerate(table.to_pylist(), start=1):
        yield _Row(f"row {number}", record)


def _check_columns(columns: list[str], where: str) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise LabelImportError(
            [f"{where} lacks column(s) {', '.join(missing)} (needs text and label)"]
        )


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if number < 0:
        raise ValueError(f"{name} must not be negative, got {number}")
    return number


def _post(values: dict[str, Any]) -> tuple[int, int] | None:
    """(board_id, post_id) named by the ids and/or the URL; None when the row names no post."""
    ids = None
    has_board, has_post = not _blank(values.get("board_id")), not _blank(values.get("post_id"))
    if has_board != has_post:
        raise ValueError("board_id and post_id go together: give both or neither")
    if has_board:
        ids = (_integer(values["board_id"], "board_id"), _integer(values["post_id"], "post_id"))
    url = values.get("url")
    if _blank(url):
        return ids
    found = ARTICLE_PATH.match(urlsplit(str(url).strip()).path)
    if found is None:
        raise ValueError(f"url {url!r} is not an Inven article URL (.../board/maple/BOARD/POST)")
    from_url = (int(found.group(1)), int(found.group(2)))
    if ids is not None and ids != from_url:
        raise ValueError(f"url names post {from_url[0]}/{from_url[1]}, the ids {ids[0]}/{ids[1]}")
    return from_url


def _label(value: object) -> str:
    raw = "" if _blank(value) else str(value).strip()
    label = _ALIASES.get(raw.lower(), raw)
    if label not in LABELS:
        raise ValueError(f"label {raw!r} is not one of {', '.join(LABELS)}")
    return label


def _key(text: str, label: str, post: tuple[int, int] | None, annotator: str) -> str:
    raw = "\x1f".join([text, label, f"{post[0]}/{post[1]}" if post else "", annotator])
    return f"{SOURCE}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def read_labels(path: Path, *, annotator: str | None = None) -> list[FeedbackInput]:
    """Every row of `path` as a feedback input, or LabelImportError listing every bad row.

    Raises:
        LabelImportError: unknown format, missing columns, or bad rows (all of them named).
    """
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise LabelImportError(
            [f"{path.name}: unknown format {path.suffix!r} (use .csv, .jsonl or .parquet)"]
        )
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[kind]
    default_annotator = (annotator or "").strip() or f"{SOURCE}:{path.name}"
    problems: list[str] = []
    items: list[FeedbackInput] = []
    seen: dict[tuple[int, int], str] = {}
    rows = 0
    for row in reader(path):
        rows += 1
        values = row.values
        try:
            if row.error is not None:
                raise ValueError(row.error)
            if kind == "jsonl" and not all(c in values for c in REQUIRED):
                raise ValueError("needs the keys text and label")
            text = "" if _blank(values.get("text")) else str(values["text"]).strip()
            if not text:
                raise ValueError("text is empty")
            label = _label(values.get("label"))
            post = _post(values)
            who = default_annotator
            if not _blank(values.get("annotator")):
                who = str(values["annotator"]).strip()
        except ValueError as exc:
            problems.append(f"{row.where}: {exc}")
            continue
        if post is not None:
            if post in seen:
                problems.append(
                    f"{row.where}: post {post[0]}/{post[1]} is already labeled on {seen[post]}"
                )
                continue
            seen[post] = row.where
        items.append(
            FeedbackInput(
                new_label=label,
                reviewer=who,
                idempotency_key=_key(text, label, post, who),
                text=text,
                board_id=post[0] if post else None,
                post_id=post[1] if post else None,
                comment=f"imported from {path.name} {row.where}",
                source=SOURCE,
            )
        )
    if problems:
        raise LabelImportError(problems)
    if not rows:
        raise LabelImportError([f"{path.name}: no rows to import"])
    return items


def import_labels(
    path: Path, store: FeedbackStore, *, annotator: str | None = None
) -> ImportResult:
    """Check every row of `path`, then store them all in one transaction (see the docstring).

    Raises:
        LabelImportError: the file has a problem; the store is unchanged.
    """
    items = read_labels(path, annotator=annotator)
    stored = store.add_many(items)
    return ImportResult(rows=len(stored), created=sum(created for _, created in stored))
