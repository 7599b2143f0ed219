"""A tiny marts export for the report tests: the real mart tables' columns and types.

The marts are computed here from a handful of posts with the same SQL as the dbt models
(sentiment_counts, keyword_frequency, keyword_sentiment_trends, representative_posts), so the
numbers a test expects follow from the posts it lists. Building it takes milliseconds, where a
dbt build takes half a minute; the dbt path is covered in sentiment_assets_tests/marts/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Post:
    """One post with its newest predicted label, posted at 12:00 KST on `day`."""

    post_id: int
    job_group: str
    job: str
    day: date
    label: str
    confidence: float = 0.8
    title: str = "제목"
    url: str = ""
    keywords: tuple[str, ...] = ()


_COUNTS = """
    count(*) as posts,
    count(*) filter (where label = '부정') as negative_posts,
    count(*) filter (where label = '중립') as neutral_posts,
    count(*) filter (where label = '긍정') as positive_posts,
    round(count(*) filter (where label = '부정') / count(*), 4) as negative_share,
    round(count(*) filter (where label = '중립') / count(*), 4) as neutral_share,
    round(count(*) filter (where label = '긍정') / count(*), 4) as positive_share,
    round((count(*) filter (where label = '긍정') - count(*) filter (where label = '부정'))
        / count(*), 4) as net_sentiment,
    round(avg(confidence), 4) as mean_confidence
"""


_POST_COLUMNS = (
    "board_id", "post_id", "board_name", "job_group", "job", "title", "url", "posted_at",
    "posted_day", "posted_week", "posted_month", "label", "confidence", "model_version",
)  # fmt: skip


def write_marts(path: Path, posts: list[Post], *, snapshot_id: int = 1) -> Path:
    """Write the marts of `posts` to the DuckDB file `path`, replacing it like marts_export."""
    frame = pd.DataFrame(
        [
            {
                "board_id": 100,
                "post_id": p.post_id,
                "board_name": f"board of {p.job_group}",
                "job_group": p.job_group,
                "job": p.job,
                "title": p.title,
                "url": p.url or f"https://www.inven.co.kr/board/maple/100/{p.post_id}",
                # Stored as naive UTC, like the lake: 12:00 KST is 03:00 UTC the same day.
                "posted_at": datetime(p.day.year, p.day.month, p.day.day, 3),
                "posted_day": p.day,
                "posted_week": p.day - timedelta(days=p.day.weekday()),
                "posted_month": p.day.replace(day=1),
                "label": p.label,
                "confidence": p.confidence,
                "model_version": "v1",
            }
            for p in posts
        ],
        columns=pd.Index(_POST_COLUMNS),
    )
    keywords = pd.DataFrame(
        [{"post_id": p.post_id, "keyword": k} for p in posts for k in p.keywords],
        columns=pd.Index(["post_id", "keyword"]),
    ).astype({"post_id": "int64", "keyword": "object"})
    partial = path.with_name(path.name + ".building")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(str(partial))
    try:
        con.register("frame", frame)
        con.register("keywords_frame", keywords)
        con.execute(
            "create temp table posts as select cast(board_id as integer) as board_id, "
            "cast(post_id as bigint) as post_id, board_name, job_group, job, title, url, "
            "cast(posted_at as timestamp) as posted_at, cast(posted_day as date) as posted_day, "
            "cast(posted_week as date) as posted_week, "
            "cast(posted_month as date) as posted_month, label, confidence, model_version "
            "from frame"
        )
        con.execute("create temp table post_keywords as select * from keywords_frame")
        for name, dims, period in (
            ("sentiment_by_job_group_day", "job_group", "posted_day"),
            ("sentiment_by_job_group_week", "job_group", "posted_week"),
            ("sentiment_by_job_day", "job_group, job", "posted_day"),
            ("sentiment_by_job_week", "job_group, job", "posted_week"),
        ):
            con.execute(
                f"create table {name} as select {period} as period_start, {dims}, {_COUNTS} "
                "from posts group by all"
            )
        con.execute(
            """
            create table keyword_frequency as
            with mentions as (
                select posted_week, posted_month, job_group, job, keyword, post_id
                from post_keywords join posts using (post_id)
            ),
            counted as (
                select 'week' as period_grain, posted_week as period_start, job_group, job,
                    keyword, count(distinct post_id) as posts
                from mentions group by all
                union all
                select 'month', posted_month, job_group, job, keyword, count(distinct post_id)
                from mentions group by all
            )
            select *, cast(row_number() over (
                partition by period_grain, period_start, job_group, job
                order by posts desc, keyword) as integer) as keyword_rank
            from counted qualify keyword_rank <= 50
            """
        )
        con.execute(
            """
            create table keyword_sentiment_trends as
            with counted as (
                select keyword, posted_week as week_start, label, count(*) as posts
                from post_keywords join posts using (post_id) group by all
            )
            select *, round(posts / sum(posts) over (partition by keyword, week_start), 4)
                as share_of_keyword_week
            from counted
            """
        )
        con.execute(
            """
            create table representative_posts as
            select job_group, job, label,
                cast(row_number() over (partition by job_group, job, label
                    order by confidence desc, posted_at desc, post_id) as integer) as post_rank,
                board_id, post_id, board_name, title, url, confidence, posted_at, model_version
            from posts qualify post_rank <= 3
            """
        )
        con.execute(
            "create table export_info as select cast(? as bigint) as lake_snapshot_id, "
            "now() as exported_at, cast(15 as integer) as tables",
            [snapshot_id],
        )
    finally:
        con.close()
    os.replace(partial, path)
    return path
