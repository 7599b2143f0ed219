"""Reports from marts the real dbt models built: guards the report queries against mart drift.

The other report tests use a hand-built file with today's mart columns; this one runs the dbt
models the reports read (no tests, only those models) on the marts tests' demo-shaped lake,
exports them the way marts_export does, and checks the report agrees with the export.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.marts.export import export_marts
from sentiment_assets.lib.marts.manifest import DBT_PROJECT_DIR, dbt_executable
from sentiment_assets.lib.reports.marts import REQUIRED_TABLES
from sentiment_assets.lib.reports.writer import generate_reports
from sentiment_assets_tests.marts.sample_lake import write_upstream

pytestmark = pytest.mark.slow


def test_reports_read_what_dbt_builds(
    lakehouse: Lakehouse, warehouse: Path, tmp_path: Path
) -> None:
    write_upstream(lakehouse)
    with lakehouse.session() as lake:
        posts = lake.query("select board_id, post_id, title from lake.raw_posts")
        keywords = pd.DataFrame(
            [
                {"board_id": b, "post_id": p, "keyword": word}
                for b, p, title in posts.itertuples(index=False)
                for word in title.split()[:2]
            ]
        )
        lake.append("post_keywords", keywords)
    selection = " ".join(f"+{table}" for table in REQUIRED_TABLES)
    done = subprocess.run(
        [dbt_executable(), "run", "--select", *selection.split(), "--target-path", str(tmp_path)],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "SENTIMENT_WAREHOUSE": str(warehouse), "DBT_LOG_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    export = export_marts(lakehouse, warehouse / "marts.duckdb")

    run = generate_reports(export.path, warehouse / "reports")
    assert run.months == ["2025-03"]
    assert run.job_groups == ["전사", "마법사", "궁수", "미분류"]
    with duckdb.connect(str(export.path), read_only=True) as con:
        expected = con.execute(
            "select sum(posts), sum(negative_posts) / sum(posts) from sentiment_by_job_group_day "
            "where job_group = '전사'"
        ).fetchone()
    assert expected is not None
    html = (warehouse / "reports" / "2025-03" / "전사.html").read_text(encoding="utf-8")
    posts_shown = re.search(r'data-metric="posts">(\d+)<', html)
    negative_shown = re.search(r'data-metric="share_부정">([\d.]+)%<', html)
    assert posts_shown and int(posts_shown.group(1)) == expected[0]
    assert negative_shown and float(negative_shown.group(1)) == round(expected[1] * 100, 1)
    assert 'data-keyword="보스"' in html  # the month's keywords reached the cloud
    assert 'href="https://www.inven.co.kr/board/maple/101/' in html  # and the posts their links
