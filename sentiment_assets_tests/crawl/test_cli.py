"""`sentiment crawl` and `sentiment replay-site`."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sentiment_assets.cli import crawl as crawl_cli
from sentiment_assets.cli.main import SUBCOMMANDS
from sentiment_assets.lib.crawl.replay.server import ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.crawl.conftest import CRAWL_CLI, Faults, lake_rows

VOLATILE = {"url", "crawled_at", "crawl_run"}


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sentiment")
    crawl_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_crawl_is_a_registered_subcommand() -> None:
    assert "sentiment_assets.cli.crawl" in SUBCOMMANDS


def test_crawl_to_jsonl_prints_a_summary(
    server: ReplayServer, site: SyntheticSite, tmp_path: Path, warehouse: Path, capsys
) -> None:
    output = tmp_path / "posts.jsonl"
    argv = ["crawl", "--base-url", server.base_url, "--boards", "2294,5974", "--max-pages", "2"]
    assert _run([*argv, "--output", str(output), "--delay", "0"]) == 0
    summary = json.loads(capsys.readouterr().out)
    expected = len(site.visible(2294)[:20]) + len(site.visible(5974)[:20])
    assert summary["new_posts"] == expected == len(_lines(output))
    assert summary["written_to"] == str(output)
    assert {b["stop"] for b in summary["boards"].values()} == {"max_pages"}
    assert not list(warehouse.glob("*salt*")), "the salt stays out of the warehouse"


def test_crawl_without_base_url_fills_the_lakehouse_from_the_replay_site(
    lakehouse: Lakehouse, capsys
) -> None:
    assert _run(["crawl", "--boards", "2296", "--max-pages", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    ((count,),) = lake_rows(lakehouse, "select count(*) from lake.raw_posts where board_id = 2296")
    assert summary["new_posts"] == count == 25


def test_bad_boards_exit_2_with_a_reason(capsys) -> None:
    assert _run(["crawl", "--boards", "2294,9"]) == 2
    assert "unknown board '9'" in capsys.readouterr().err


@contextmanager
def _replay_site(*extra: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CRAWL_CLI, "replay-site", "--port", "0", *extra],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield base_url
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_replay_site_serves_inven_shaped_pages() -> None:
    with _replay_site("--posts", "30", "--page-size", "5") as base_url:
        robots = httpx.get(f"{base_url}/robots.txt")
        listing = httpx.get(f"{base_url}/board/maple/5974", params={"p": 1})
        comments = httpx.post(
            f"{base_url}/common/board/comment.json.php",
            data={"comeidx": "5974", "articlecode": "10001", "act": "list", "out": "json"},
        )
        missing = httpx.get(f"{base_url}/board/maple/5974/99999")
    assert "Disallow: /*?*iskin=" in robots.text
    assert listing.status_code == 200 and listing.text.count('class="subject-link"') == 2 + 5
    assert "합성 데이터" in listing.text
    assert comments.json()["message"] == 1
    assert missing.status_code == 404


def test_saved_pages_replay_to_the_same_posts(
    server: ReplayServer, tmp_path: Path, warehouse: Path
) -> None:
    pages = tmp_path / "pages"
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    common = ["--boards", "2295", "--delay", "0", "--comments"]
    assert _run(["crawl", "--base-url", server.base_url, *common, "--output", str(first),
                 "--save-pages", str(pages)]) == 0  # fmt: skip
    assert (pages / "board" / "maple" / "2295" / "list-p1.html").is_file()
    with _replay_site("--pages", str(pages)) as base_url:
        assert _run(["crawl", "--base-url", base_url, *common, "--output", str(second)]) == 0
    strip = [{k: v for k, v in r.items() if k not in VOLATILE} for r in _lines(first)]
    again = [{k: v for k, v in r.items() if k not in VOLATILE} for r in _lines(second)]
    assert strip == again and strip
    comments = tmp_path / "a.comments.jsonl"
    assert len(_lines(comments)) == len(_lines(tmp_path / "b.comments.jsonl"))


def test_replay_site_refuses_a_missing_folder(tmp_path: Path, capsys) -> None:
    assert _run(["replay-site", "--pages", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["crawl", "--help"], ["replay-site", "--help"]])
def test_help_mentions_the_key_options(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit):
        _run(argv)
    out = capsys.readouterr().out
    assert ("--base-url" in out and "--max-pages" in out) or "--pages" in out


def test_retry_failed_revisits_failures_past_the_limit(
    server: ReplayServer, site: SyntheticSite, faults: Faults, lakehouse: Lakehouse, capsys
) -> None:
    bad = site.visible(2294)[0].post_id
    down = {"on": True}
    faults.add(
        lambda r: (
            ReplayResponse(500, b"<html>oops</html>")
            if down["on"] and r.path == f"/board/maple/2294/{bad}"
            else None
        )
    )
    argv = ["crawl", "--base-url", server.base_url, "--boards", "2294", "--delay", "0"]
    argv += ["--max-retries", "0"]
    assert _run([*argv, "--retry-limit", "1"]) == 0
    ((state,),) = lake_rows(lakehouse, "select state from lake.crawl_failures")
    assert state == "gave_up"
    down["on"] = False
    capsys.readouterr()
    assert _run([*argv, "--retry-limit", "1", "--retry-failed"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["new_posts"] == 1 and summary["boards"]["2294"]["recovered"] == 1
    assert summary["boards"]["2294"]["list_pages"] == 0
    ((count,),) = lake_rows(
        lakehouse, "select count(*) from lake.raw_posts where post_id = ?", [bad]
    )
    assert count == 1
