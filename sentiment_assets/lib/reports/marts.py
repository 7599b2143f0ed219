"""What a monthly report shows, read from the marts export (`warehouse/marts.duckdb`).

Only the exported copy is read, and read-only: a report never opens the writer's lakehouse, so
it can neither block a pipeline nor see a half-built mart. Every figure comes from a mart at its
stated grain (days and weeks are Korean calendar dates); nothing is recomputed from posts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from sentiment_assets.lib.crawl.boards import JOB_GROUPS
from sentiment_assets.lib.reports.months import Month

LABELS = ("부정", "중립", "긍정")
"""Sentiment labels in the order reports list them."""
TREND_WEEKS_BEFORE = 8
"""Weeks shown before the month in the trend chart, so a change has something to stand out from."""
CLOUD_KEYWORDS = 40
"""Keywords drawn in a cloud; more would not be readable at the smallest font size."""
REQUIRED_TABLES = (
    "sentiment_by_job_group_day",
    "sentiment_by_job_group_week",
    "sentiment_by_job_day",
    "keyword_frequency",
    "keyword_sentiment_trends",
    "representative_posts",
)


class MartsExportError(RuntimeError):
    """The marts export is missing, unreadable or lacks a mart the reports need."""


@dataclass(frozen=True)
class SentimentCounts:
    """Posts by newest predicted label over some slice of the marts."""

    posts: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    mean_confidence: float | None = None

    def share(self, label: str) -> float | None:
        """Share of posts with `label`, None without posts."""
        if not self.posts:
            return None
        count = {"부정": self.negative, "중립": self.neutral, "긍정": self.positive}[label]
        return count / self.posts

    @property
    def net(self) -> float | None:
        """Positive share minus negative share, from -1 to 1; None without posts."""
        return (self.positive - self.negative) / self.posts if self.posts else None


@dataclass(frozen=True)
class JobRow:
    """One job's month against the month before."""

    job: str
    current: SentimentCounts
    previous: SentimentCounts


@dataclass(frozen=True)
class WeekPoint:
    """One KST week (starting Monday) of a job group."""

    week_start: date
    counts: SentimentCounts


@dataclass(frozen=True)
class Keyword:
    """A keyword of the month: posts mentioning it, and its net sentiment where the mart has it."""

    keyword: str
    posts: int
    net: float | None


@dataclass(frozen=True)
class RepresentativePost:
    """A post the newest model is most confident about, with its link."""

    job: str
    label: str
    rank: int
    title: str
    url: str
    confidence: float
    posted_at: datetime | None
    in_month: bool


@dataclass(frozen=True)
class JobGroupMonth:
    """Everything one report shows: one job group in one month."""

    job_group: str
    month: Month
    current: SentimentCounts
    previous: SentimentCounts
    jobs: list[JobRow] = field(default_factory=list)
    weeks: list[WeekPoint] = field(default_factory=list)
    keywords: list[Keyword] = field(default_factory=list)
    posts: list[RepresentativePost] = field(default_factory=list)


@dataclass(frozen=True)
class ExportInfo:
    """When the export was written and from which lakehouse snapshot."""

    lake_snapshot_id: int | None
    exported_at: datetime | None


@contextlib.contextmanager
def open_marts(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the marts export read-only and check it holds the marts the reports read.

    Raises:
        MartsExportError: the file is missing, is not a DuckDB database, or lacks a mart.
    """
    if not path.is_file():
        raise MartsExportError(
            f"The marts export {path} does not exist: materialize marts_export first "
            "(or `make demo`), or pass the export's path."
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise MartsExportError(f"The marts export {path} could not be opened: {exc}") from exc
    try:
        present = {row[0] for row in con.execute("show tables").fetchall()}
        missing = [table for table in REQUIRED_TABLES if table not in present]
        if missing:
            raise MartsExportError(
                f"The marts export {path} lacks {', '.join(missing)}: rebuild the marts "
                "(dbt build) and re-export them."
            )
        yield con
    finally:
        con.close()


def export_info(con: duckdb.DuckDBPyConnection) -> ExportInfo:
    """The export's snapshot id and time; empty when the file has no export_info table."""
    present = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'export_info'"
    ).fetchone()
    if not present or not present[0]:
        return ExportInfo(None, None)
    row = con.execute("select lake_snapshot_id, exported_at from export_info").fetchone()
    return ExportInfo(row[0], row[1]) if row else ExportInfo(None, None)


def months_with_posts(con: duckdb.DuckDBPyConnection) -> list[Month]:
    """Every month in which some job group has posts, oldest first."""
    rows = con.execute(
        "select distinct cast(date_trunc('month', period_start) as date) "
        "from sentiment_by_job_group_day where posts > 0 order by 1"
    ).fetchall()
    return [Month.of(row[0]) for row in rows]


def job_groups(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The five job groups in their usual order, then any other group the marts hold."""
    rows = con.execute("select distinct job_group from sentiment_by_job_group_day").fetchall()
    extra = sorted({row[0] for row in rows if row[0] is not None} - set(JOB_GROUPS))
    return [*JOB_GROUPS, *extra]


_COUNT_COLUMNS = (
    "coalesce(sum(posts), 0) as posts, coalesce(sum(negative_posts), 0) as negative, "
    "coalesce(sum(neutral_posts), 0) as neutral, coalesce(sum(positive_posts), 0) as positive, "
    # The mart holds a mean per row; weighting by posts gives the month's mean over posts.
    "sum(mean_confidence * posts) / nullif(sum(posts), 0) as mean_confidence"
)


def _counts(row: tuple | None) -> SentimentCounts:
    if row is None:
        return SentimentCounts()
    return SentimentCounts(int(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4])


def group_month_counts(
    con: duckdb.DuckDBPyConnection, job_group: str, month: Month
) -> SentimentCounts:
    """A job group's posts and labels in `month`, from the daily mart."""
    row = con.execute(
        f"select {_COUNT_COLUMNS} from sentiment_by_job_group_day "
        "where job_group = ? and period_start >= ? and period_start < ?",
        [job_group, month.start, month.end],
    ).fetchone()
    return _counts(row)


def month_overview(con: duckdb.DuckDBPyConnection, month: Month) -> dict[str, SentimentCounts]:
    """Every job group's counts in `month` (groups without posts are left out)."""
    rows = con.execute(
        f"select job_group, {_COUNT_COLUMNS} from sentiment_by_job_group_day "
        "where period_start >= ? and period_start < ? group by job_group",
        [month.start, month.end],
    ).fetchall()
    return {row[0]: _counts(row[1:]) for row in rows if row[1]}


def _job_rows(con: duckdb.DuckDBPyConnection, job_group: str, month: Month) -> list[JobRow]:
    rows = con.execute(
        f"""
        with current_month as (
            select job, {_COUNT_COLUMNS} from sentiment_by_job_day
            where job_group = ? and period_start >= ? and period_start < ? group by job
        ),
        previous_month as (
            select job, {_COUNT_COLUMNS} from sentiment_by_job_day
            where job_group = ? and period_start >= ? and period_start < ? group by job
        )
        select * from current_month left join previous_month using (job)
        order by current_month.posts desc, job
        """,
        [job_group, month.start, month.end, job_group, month.previous().start, month.start],
    ).fetchall()
    return [
        JobRow(
            job=row[0],
            current=_counts(row[1:6]),
            previous=_counts(row[6:11]) if row[6] is not None else SentimentCounts(),
        )
        for row in rows
    ]


def _weeks(con: duckdb.DuckDBPyConnection, job_group: str, month: Month) -> list[WeekPoint]:
    # Weeks overlapping the month start up to six days before it.
    first = month.start - timedelta(days=6 + 7 * TREND_WEEKS_BEFORE)
    rows = con.execute(
        "select period_start, posts, negative_posts, neutral_posts, positive_posts, "
        "mean_confidence from sentiment_by_job_group_week "
        "where job_group = ? and period_start >= ? and period_start < ? order by period_start",
        [job_group, first, month.end],
    ).fetchall()
    return [WeekPoint(row[0], _counts(row[1:])) for row in rows]


def _keywords(con: duckdb.DuckDBPyConnection, job_group: str, month: Month) -> list[Keyword]:
    # keyword_frequency is per job; a post belongs to one job, so summing over the group's jobs
    # counts each post once. Net sentiment comes from keyword_sentiment_trends, which covers the
    # 200 most mentioned keywords over all boards: a keyword outside it has no colour.
    rows = con.execute(
        """
        with counted as (
            select keyword, sum(posts) as posts from keyword_frequency
            where period_grain = 'month' and period_start = ? and job_group = ?
            group by keyword
        ),
        tone as (
            select
                keyword,
                (coalesce(sum(posts) filter (where label = '긍정'), 0)
                    - coalesce(sum(posts) filter (where label = '부정'), 0)) / sum(posts) as net
            from keyword_sentiment_trends
            where week_start > ? and week_start < ?
            group by keyword
        )
        select counted.keyword, counted.posts, tone.net
        from counted left join tone using (keyword)
        order by counted.posts desc, counted.keyword
        limit ?
        """,
        [month.start, job_group, month.start - timedelta(days=7), month.end, CLOUD_KEYWORDS],
    ).fetchall()
    return [Keyword(row[0], int(row[1]), row[2]) for row in rows]


def _representative(
    con: duckdb.DuckDBPyConnection, job_group: str, month: Month
) -> list[RepresentativePost]:
    # The mart keeps three posts per job and label over all time; posted_at is naive UTC and
    # months are Korean, hence the nine hours.
    rows = con.execute(
        """
        select job, label, post_rank, title, url, confidence, posted_at,
            coalesce(posted_at + interval 9 hour >= ? and posted_at + interval 9 hour < ?, false)
        from representative_posts
        where job_group = ?
        order by job, case label when '부정' then 0 when '중립' then 1 else 2 end, post_rank
        """,
        [month.start, month.end, job_group],
    ).fetchall()
    return [
        RepresentativePost(
            job=row[0],
            label=row[1],
            rank=int(row[2]),
            title=row[3] or "",
            url=row[4] or "",
            confidence=float(row[5]) if row[5] is not None else 0.0,
            posted_at=row[6],
            in_month=bool(row[7]),
        )
        for row in rows
    ]


def load_job_group_month(
    con: duckdb.DuckDBPyConnection, job_group: str, month: Month
) -> JobGroupMonth:
    """Read everything the report of `job_group` in `month` shows."""
    return JobGroupMonth(
        job_group=job_group,
        month=month,
        current=group_month_counts(con, job_group, month),
        previous=group_month_counts(con, job_group, month.previous()),
        jobs=_job_rows(con, job_group, month),
        weeks=_weeks(con, job_group, month),
        keywords=_keywords(con, job_group, month),
        posts=_representative(con, job_group, month),
    )
