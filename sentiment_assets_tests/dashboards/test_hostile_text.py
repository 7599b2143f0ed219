"""Markup in a post title is shown as text on the dashboards, and nothing in it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Dialog

from sentiment_assets.lib.dashboards.build import BuildResult
from sentiment_assets.lib.dashboards.serve import serve_in_thread
from sentiment_assets_tests.dashboards.browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS
from sentiment_assets_tests.dashboards.conftest import HOSTILE_JOB, HOSTILE_TITLE

pytestmark = pytest.mark.slow


def test_markup_in_a_post_title_is_escaped_and_never_executed(built_site: BuildResult) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (make browser)")
    server, base = serve_in_thread(built_site.build_dir)
    dialogs: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(WAIT_MS)
                page.on("dialog", lambda d: _dismiss(d, dialogs))
                page.goto(f"{base}/jobs/{quote(HOSTILE_JOB[1])}/", wait_until="networkidle")
                links = page.locator("a", has_text="window.__xss = 1")
                links.first.wait_for(state="attached")
                shown = [links.nth(i).text_content() or "" for i in range(links.count())]
                hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
                ran = page.evaluate("() => window.__xss")
                injected = page.locator(
                    "img[src='x'], a[href^='javascript:'], script:has-text('__xss')"
                ).count()
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    # The post link's label is the title as written: the markup is text, not elements.
    assert shown and all(text.strip() == HOSTILE_TITLE.strip() for text in shown), shown
    assert ran is None and not dialogs, "nothing in the title ran"
    assert injected == 0, "no element came out of the title"
    assert hrefs and all(h == "https://www.inven.co.kr/board/maple/101/6000" for h in hrefs)


def _dismiss(dialog: Dialog, seen: list[str]) -> None:
    """Note a dialog (an alert that ran) and close it."""
    seen.append(dialog.message)
    dialog.dismiss()
