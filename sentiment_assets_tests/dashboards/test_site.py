"""The built site in headless Chromium: every page draws its charts, with no console errors.

Where the machine allows a network namespace, Chromium and the server run inside one that has
only loopback (as the build did), so the check also proves the browser side needs no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from sentiment_assets.lib.dashboards.build import BuildResult
from sentiment_assets.lib.dashboards.serve import serve_in_thread
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.dashboards.browser import PageReport, check_site
from sentiment_assets_tests.dashboards.conftest import in_namespace

pytestmark = pytest.mark.slow

JOB_PAGE = "/jobs/히어로/"
# Pages that only list links (a table, no chart).
LIST_PAGES = {"/jobs/", "/job-groups/"}
FIXED_PAGES = {"/", "/trends/", "/keywords/", "/model-quality/", "/review-backlog/", *LIST_PAGES}


def _browse(build: BuildResult, artifacts: Path, prefix: list[str] | None) -> list[PageReport]:
    if prefix is None:
        return check_site(build.build_dir, screenshots=artifacts, shoot=(JOB_PAGE,))
    done = subprocess.run(
        [
            *in_namespace(prefix),
            sys.executable,
            "-m",
            "sentiment_assets_tests.dashboards.browser",
            str(build.build_dir),
            "--screenshots",
            str(artifacts),
            "--shoot",
            JOB_PAGE,
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.stdout.strip(), done.stderr[-4000:]
    return [PageReport(**report) for report in json.loads(done.stdout)]


@pytest.mark.timeout(1200)
def test_every_page_renders_its_charts_without_console_errors(
    built_site: BuildResult,
    marts_file: Path,
    artifacts: Path,
    loopback_prefix: list[str] | None,
) -> None:
    with duckdb.connect(str(marts_file), read_only=True) as con:
        rows = con.execute(
            "select job_group, job, sum(posts) from sentiment_by_job_week group by all"
        ).fetchall()
        counted = con.execute("select count(*) from sentiment_by_job_week").fetchone()
        serving = con.execute("select model_version from serving_model").fetchone()
    jobs = {job: posts for _, job, posts in rows}
    groups = {group for group, _, _ in rows}
    job_weeks = counted[0] if counted else None
    # Fixed pages, and one templated page per job group and per job of the sample lake.
    templated = {f"/jobs/{job}/" for job in jobs} | {f"/job-groups/{g}/" for g in groups}
    assert set(built_site.pages) == FIXED_PAGES | templated

    reports = {r.path: r for r in _browse(built_site, artifacts, loopback_prefix)}
    assert set(reports) == set(built_site.pages)
    for path, report in reports.items():
        assert report.console_errors == [], (path, report.console_errors)
        assert report.failed_requests == [], (path, report.failed_requests)
        assert report.foreign_requests == [], (path, report.foreign_requests)
        assert report.skeletons == 0, path
        assert "Error in Query" not in report.text, path
        if path not in LIST_PAGES:
            assert report.charts > 0 and report.drawn_charts >= report.charts, path
        # Every page's footer names the one model version its figures come from.
        assert serving is not None and f"Model {serving[0]} (registry" in report.text, path
        assert "every prediction on this page is this one model's" in report.text, path

    # The browser's own DuckDB (the pinned 0.9.1 build) reads the site's Parquet.
    assert reports["/keywords/"].engine == {"version": "v0.9.1", "job_weeks": job_weeks}
    # The job page shows the job's real post count from the marts, and links its group.
    assert f"Posts\n\n{jobs['히어로']}\n" in reports[JOB_PAGE].text
    assert "Job group: 전사" in reports[JOB_PAGE].text
    # A job on two boards gets one page that links both groups.
    assert {"Job group: 도적", "Job group: 해적"} <= set(reports["/jobs/제논/"].text.splitlines())
    assert "/jobs/아크메이지(불,독)/" in reports
    assert (artifacts / "dashboard_jobs_히어로.png").stat().st_size > 10_000


def test_server_answers_byte_ranges_for_duckdb_wasm(built_site: BuildResult) -> None:
    parquet = next(built_site.build_dir.glob("data/marts/**/*.parquet"))
    whole = parquet.read_bytes()
    server, base = serve_in_thread(built_site.build_dir)
    try:
        url = f"{base}/{parquet.relative_to(built_site.build_dir).as_posix()}"
        part = httpx.get(url, headers={"Range": "bytes=4-11"})
        assert part.status_code == 206 and part.content == whole[4:12]
        assert part.headers["Content-Range"] == f"bytes 4-11/{len(whole)}"
        tail = httpx.get(url, headers={"Range": "bytes=-4"})
        assert tail.status_code == 206 and tail.content == whole[-4:] == b"PAR1"
        beyond = httpx.get(url, headers={"Range": f"bytes={len(whole) + 10}-"})
        assert beyond.status_code == 416
        assert httpx.get(url).content == whole
    finally:
        server.shutdown()
        server.server_close()
