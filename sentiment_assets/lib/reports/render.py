"""Render a job group's month and the index to HTML strings (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import jinja2

from sentiment_assets.lib.reports.marts import LABELS, ExportInfo, JobGroupMonth
from sentiment_assets.lib.reports.svg import keyword_cloud, sentiment_lines
from sentiment_assets.lib.reports.templates import INDEX, REPORT

NO_VALUE = "–"


def pct(share: float | None) -> str:
    """0.375 -> '37.5%'; None -> a dash."""
    return NO_VALUE if share is None else f"{share:.1%}"


def _signed(value: float, digits: int) -> str:
    # Rounded first, so a tiny negative change reads as ±0 rather than "-0.00".
    rounded = round(value, digits)
    return f"±{0:.{digits}f}" if rounded == 0 else f"{rounded:+.{digits}f}"


def signed(value: float | None) -> str:
    """Net sentiment as '+0.25' / '-0.10' / '±0.00'; None -> a dash."""
    return NO_VALUE if value is None else _signed(value, 2)


def count_change(current: int, previous: int) -> str:
    """'+12 (+40.0%)' against the previous month; 'new' when there was nothing before."""
    if not previous:
        return "new" if current else NO_VALUE
    return f"{current - previous:+d} ({(current - previous) / previous:+.1%})"


def pp_change(current: float | None, previous: float | None) -> str:
    """A share's change in percentage points: '+4.2%p'."""
    if current is None or previous is None:
        return NO_VALUE
    return f"{_signed((current - previous) * 100, 1)}%p"


def net_change(current: float | None, previous: float | None) -> str:
    """Net sentiment's change: '+0.12'."""
    if current is None or previous is None:
        return NO_VALUE
    return _signed(current - previous, 2)


def width(share: float | None) -> str:
    """A share as a CSS percentage width."""
    return f"{(share or 0.0) * 100:.1f}"


def safe_link(url: str) -> bool:
    """Only http(s) links become anchors: a crawled `javascript:` URL stays plain text."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


_ENV = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
)
_ENV.globals.update(
    pct=pct,
    signed=signed,
    count_change=count_change,
    pp_change=pp_change,
    net_change=net_change,
    width=width,
    safe_link=safe_link,
    labels=LABELS,
)
_REPORT = _ENV.from_string(REPORT)
_INDEX = _ENV.from_string(INDEX)


def render_report(data: JobGroupMonth, info: ExportInfo, generated_at: datetime) -> str:
    """The self-contained HTML report of one job group in one month."""
    return _REPORT.render(
        title=f"{data.job_group} · {data.month} 월간 감성 리포트",
        data=data,
        info=info,
        cloud=keyword_cloud(data.keywords),
        trend=sentiment_lines(data.weeks, month_start=data.month.start, month_end=data.month.end),
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC",
    )


@dataclass(frozen=True)
class IndexRow:
    """A job group's line in the index; `href` is None when its report was not written."""

    job_group: str
    posts: int
    net: float | None
    href: str | None


@dataclass(frozen=True)
class IndexMonth:
    """A month's section in the index."""

    name: str
    rows: list[IndexRow]


def render_index(months: list[IndexMonth], info: ExportInfo, generated_at: datetime) -> str:
    """The index page linking every month's reports, newest month first."""
    return _INDEX.render(
        title="월간 감성 리포트",
        months=months,
        info=info,
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC",
    )
