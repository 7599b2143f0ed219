"""A crawl killed with SIGKILL mid-run and started again ends with every post exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sentiment_assets.lib.crawl.replay.server import ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.crawl.conftest import CRAWL_CLI, lake_rows

ARTICLE = re.compile(r"^/board/maple/(\d+)/(\d+)$")
BOARDS = (2294, 5974)


def _articles(server: ReplayServer, since: int = 0) -> list[tuple[int, int]]:
    found = []
    for request in server.served[since:]:
        if (m := ARTICLE.match(request.target)) and request.status == 200:
            found.append((int(m.group(1)), int(m.group(2))))
    return found


def _command(server: ReplayServer, output: Path | None) -> list[str]:
    command = [
        sys.executable,
        "-c",
        CRAWL_CLI,
        "crawl",
        "--base-url",
        server.base_url,
        "--boards",
        ",".join(map(str, BOARDS)),
        "--delay",
        "0.04",
        "--batch-size",
        "5",
    ]
    return command + (["--output", str(output)] if output else [])


def _stored(sink: str, lakehouse: Lakehouse, output: Path) -> list[tuple[int, int]]:
    if sink == "lakehouse":
        return lake_rows(lakehouse, "select board_id, post_id from lake.raw_posts")
    lines = output.read_text(encoding="utf-8").splitlines() if output.exists() else []
    return [(r["board_id"], r["post_id"]) for r in map(json.loads, lines)]


@pytest.mark.parametrize("sink", ["lakehouse", "jsonl"])
def test_sigkill_mid_crawl_then_restart_stores_every_post_once(
    sink: str, server: ReplayServer, site: SyntheticSite, lakehouse: Lakehouse, tmp_path: Path
) -> None:
    expected = {(b, p.post_id) for b in BOARDS for p in site.visible(b)}
    output = tmp_path / "out" / "posts.jsonl" if sink == "jsonl" else None
    env = dict(os.environ)  # SENTIMENT_WAREHOUSE points at the test's lakehouse
    child = subprocess.Popen(
        _command(server, output),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_articles(server)) < 23 and child.poll() is None:
            assert time.monotonic() < deadline, "the crawl never got going"
            time.sleep(0.01)
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    survived = _stored(sink, lakehouse, output or tmp_path)
    assert 0 < len(survived) < len(expected), "the kill must land mid-crawl"
    mark = len(server.served)
    rerun = subprocess.run(
        _command(server, output), cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    final = _stored(sink, lakehouse, output or tmp_path)
    assert len(final) == len(set(final)), "a post was stored twice"
    assert set(final) == expected, "a post was lost"
    refetched = _articles(server, mark)
    assert set(refetched) == expected - set(survived), "stored posts must not be fetched again"
    summary = json.loads(rerun.stdout)
    assert summary["new_posts"] == len(expected) - len(survived)
