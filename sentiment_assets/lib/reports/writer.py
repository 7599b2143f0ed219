"""Write the monthly reports: `<output>/<YYYY-MM>/<job_group>.html` and `<output>/index.html`.

Each file is written to a temporary name beside it and renamed over the old one, so a reader
(or a web server) sees either the previous report or the refreshed one, never half of either.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sentiment_assets.lib.reports.marts import (
    export_info,
    job_groups,
    load_job_group_month,
    month_overview,
    months_with_posts,
    open_marts,
)
from sentiment_assets.lib.reports.months import Month
from sentiment_assets.lib.reports.render import IndexMonth, IndexRow, render_index, render_report

INDEX_FILE = "index.html"
_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")


@dataclass(frozen=True)
class ReportRun:
    """What one generation wrote; `message` explains an empty run."""

    written: list[Path] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    job_groups: list[str] = field(default_factory=list)
    index: Path | None = None
    message: str | None = None


def report_file_name(job_group: str) -> str:
    """`전사` -> `전사.html`; characters a file name cannot hold become `_`."""
    stem = _UNSAFE.sub("_", job_group).strip().lstrip(".") or "_"
    return f"{stem}.html"


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def generate_reports(
    marts_path: Path,
    output_dir: Path,
    *,
    month: Month | None = None,
    now: datetime | None = None,
) -> ReportRun:
    """Render the reports of `month` (default: every month with posts) and the index.

    A job group gets a report for a month when it had posts in that month or the month before,
    so a group that fell silent shows as such instead of disappearing.

    Raises:
        MartsExportError: the export is missing or lacks a mart (see `open_marts`).
    """
    generated_at = now or datetime.now(UTC)
    with open_marts(marts_path) as con:
        info = export_info(con)
        available = months_with_posts(con)
        groups = job_groups(con)
        if month is not None and month not in available:
            names = ", ".join(str(m) for m in available) or "none"
            return ReportRun(
                message=f"No posts in {month} in the marts export {marts_path} "
                f"(months with posts: {names}); no report written."
            )
        chosen = [month] if month is not None else available
        written: list[Path] = []
        written_groups: set[str] = set()
        for target in chosen:
            active = set(month_overview(con, target)) | set(month_overview(con, target.previous()))
            for job_group in groups:
                if job_group not in active:
                    continue
                data = load_job_group_month(con, job_group, target)
                path = output_dir / str(target) / report_file_name(job_group)
                write_atomically(path, render_report(data, info, generated_at))
                written.append(path)
                written_groups.add(job_group)
        sections = []
        for listed in reversed(available):
            overview = month_overview(con, listed)
            rows = []
            for job_group in groups:
                counts = overview.get(job_group)
                file_name = report_file_name(job_group)
                exists = (output_dir / str(listed) / file_name).is_file()
                rows.append(
                    IndexRow(
                        job_group=job_group,
                        posts=counts.posts if counts else 0,
                        net=counts.net if counts else None,
                        href=f"{listed}/{quote(file_name)}" if exists else None,
                    )
                )
            sections.append(IndexMonth(str(listed), rows))
    index = output_dir / INDEX_FILE
    write_atomically(index, render_index(sections, info, generated_at))
    message = None if written else f"The marts export {marts_path} holds no posts yet."
    return ReportRun(
        written=written,
        months=[str(m) for m in chosen],
        job_groups=[g for g in groups if g in written_groups],
        index=index,
        message=message,
    )
