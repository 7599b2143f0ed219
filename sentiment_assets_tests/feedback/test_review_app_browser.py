"""The review app once in a real browser: `sentiment review-app` driven by headless Chromium.

AppTest (test_review_app.py) runs the script without a browser; this test covers what it
cannot: the Streamlit server, the websocket round trips, the widgets as a person uses them,
and what a browser does with a post whose title and body hold HTML, a script and a Markdown
image (shows the characters; runs and loads nothing). The app talks to a real API on
127.0.0.1, signed in with a reviewer's token. It uses Debian's chromium (`make browser`),
never a browser downloaded by Playwright.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sentiment_assets.lib.feedback.store import default_path
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.review_app.client import API_URL_ENV
from sentiment_assets_tests.feedback.helpers import (
    REVIEWER,
    TOKEN,
    serve_review_api,
    train_ensemble,
    write_posts,
    write_predictions,
)

# Where Debian's package puts it; CHROMIUM overrides, as in the Makefile's `browser` target.
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
# No sandbox: tests may run as root in a container. The rest keeps Chromium off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Streamlit renders after websocket round trips and the first run loads the model: be patient.
WAIT_MS = 90_000
TEXT = "보스 보상 너무 좋다"
HOSTILE_TITLE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
HOSTILE_BODY = "**굵게** ![추적](http://127.0.0.1:9/pixel.png) <b>본문</b>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium; the test skips (before starting the app) where it is not installed."""
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (make browser)")
    return CHROMIUM


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where the screenshot goes: $SENTIMENT_TEST_ARTIFACTS when CI collects it, else tmp."""
    folder = Path(os.environ.get("SENTIMENT_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def review_app(warehouse: Path, tmp_path: Path) -> Iterator[str]:
    """`sentiment review-app` on a free 127.0.0.1 port, a client of a real API; its URL.

    Self-contained (other test folders import it): a tiny trained champion, a queued post whose
    title and body are hostile, `sentiment serve` on which TOKEN is REVIEWER's, then the app.
    """
    version = train_ensemble(tmp_path / "models")  # SENTIMENT_MODELS of the `warehouse` fixture
    lake = Lakehouse(warehouse)
    write_predictions(lake, version, [(1, 1, "부정", 0.4)])
    write_posts(
        lake, [(1, 1, "히어로", "2025-01-01")], texts={(1, 1): (HOSTILE_TITLE, HOSTILE_BODY)}
    )
    with serve_review_api(warehouse) as api_url:
        yield from _streamlit(api_url, tmp_path)


def _streamlit(api_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "review_app.log").open("w")
    # Its own session: the CLI starts Streamlit as a child, and both must stop with the test.
    process = subprocess.Popen(
        [sys.executable, "-m", "sentiment_assets.cli.main", "review-app", "--port", str(port)],
        env=os.environ | {API_URL_ENV: api_url},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"review app exited with {process.returncode}: "
                    + (tmp_path / "review_app.log").read_text()
                )
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("review app did not answer /_stcore/health within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


@pytest.mark.slow
def test_a_correction_made_in_chromium_lands_in_the_feedback_store(
    chromium: Path, review_app: str, warehouse: Path, artifacts: Path
) -> None:
    requested: list[str] = []
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("request", lambda request: requested.append(request.url))
            page.set_default_timeout(WAIT_MS)
            # expect() has its own 5 s default, too short for the first run's model load.
            expect.set_options(timeout=WAIT_MS)
            page.goto(review_app)
            expect(page.get_by_text("model version: ")).to_be_visible()

            token = page.get_by_label("your reviewer token")
            token.fill(TOKEN)
            token.press("Enter")  # a text input reaches the script on Enter or blur
            expect(page.get_by_text(f"signed in as {REVIEWER}")).to_be_visible()
            text = page.get_by_label("text", exact=True)
            text.fill(TEXT)
            text.press("Control+Enter")  # a text area reaches the script on Ctrl+Enter
            expect(page.get_by_text("label: 긍정")).to_be_visible()
            expect(page.get_by_text("members agreeing: lexicon")).to_be_visible()

            page.get_by_role("combobox", name="correct label").click()
            page.get_by_role("option", name="중립", exact=True).click()
            expect(page.get_by_role("combobox", name="correct label")).to_have_value("중립")
            save = page.locator(".st-key-save_correction").get_by_role("button")
            expect(save).to_be_enabled()
            save.click()
            expect(page.get_by_text("correction 1 saved")).to_be_visible()
            page.screenshot(path=str(artifacts / "review_app_correction.png"), full_page=True)

            # The queued post's title and body show as the characters they hold.
            page.get_by_role("tab", name="review queue").click()
            expect(page.get_by_text(HOSTILE_TITLE, exact=True)).to_be_visible()
            expect(page.get_by_text(HOSTILE_BODY, exact=True)).to_be_visible()
            page.screenshot(path=str(artifacts / "review_app_hostile_post.png"), full_page=True)
            assert page.evaluate("() => window.__xss") is None
            assert page.locator("img[src='x']").count() == 0
            assert page.locator("b", has_text="본문").count() == 0
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            browser.close()

    with sqlite3.connect(default_path(warehouse)) as con:
        rows = con.execute(
            "select text, old_label, new_label, reviewer, source, model_version from feedback"
        ).fetchall()
        audit = con.execute("select who, action, old_label, new_label from audit").fetchall()
    assert len(rows) == 1
    text_, old, new, who, source, version = rows[0]
    assert (text_, old, new, who, source) == (TEXT, "긍정", "중립", REVIEWER, "review-app")
    assert version
    assert audit == [(REVIEWER, "feedback", "긍정", "중립")]
    assert not [url for url in requested if "pixel.png" in url]
