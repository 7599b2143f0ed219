"""Markup typed into the review app, and saved as a correction, is shown as text and never runs.

Drives `sentiment review-app` in Debian's chromium, as the review app's own browser test does,
signed in with the token of a reviewer whose name is itself markup (the app shows whom the token
belongs to): the typed text is analysed (the lexicon's words for it are rendered as markdown),
saved as a correction through the API, and shown again in the audit trail.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Dialog

from sentiment_assets.lib.feedback.store import default_path
from sentiment_assets_tests.feedback.helpers import add_reviewer
from sentiment_assets_tests.feedback.test_review_app_browser import (
    CHROMIUM_ARGS,
    WAIT_MS,
    chromium,
    review_app,
)

__all__ = ["chromium", "review_app"]

MARKUP = (
    '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script> '
    "[링크](javascript:window.__xss=3) **굵게** 보스 보상 너무 좋다"
)


@pytest.mark.slow
def test_markup_in_the_review_app_is_text_and_never_runs(
    chromium: Path, review_app: str, warehouse: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    dialogs: list[str] = []
    token = add_reviewer(default_path(warehouse), "<b>mallory</b>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            page.on("dialog", lambda d: _dismiss(d, dialogs))
            page.goto(review_app)
            expect(page.get_by_text("model version: ")).to_be_visible()
            signin = page.get_by_label("your reviewer token")
            signin.fill(token)
            signin.press("Enter")
            expect(page.get_by_text("signed in as <b>mallory</b>")).to_be_visible()
            text = page.get_by_label("text", exact=True)
            text.fill(MARKUP)
            text.press("Control+Enter")
            expect(page.get_by_text("label: ")).to_be_visible()
            save = page.locator(".st-key-save_correction").get_by_role("button")
            expect(save).to_be_enabled()
            save.click()
            expect(page.get_by_text("correction 1 saved")).to_be_visible()
            page.get_by_role("tab", name="audit trail").click()
            page.wait_for_timeout(1000)
            ran = page.evaluate("() => window.__xss")
            injected = page.locator(
                "img[src='x'], a[href^='javascript:'], script:has-text('__xss'), "
                "b:has-text('mallory')"
            ).count()
            exceptions = page.locator("[data-testid='stException']").count()
        finally:
            browser.close()
    assert ran is None and not dialogs, "nothing typed ran"
    assert injected == 0, "no element came out of the text"
    assert exceptions == 0
    with sqlite3.connect(default_path(warehouse)) as con:
        stored = con.execute("select text, reviewer from feedback").fetchall()
    assert stored == [(MARKUP, "<b>mallory</b>")], "stored exactly as typed"


def _dismiss(dialog: Dialog, seen: list[str]) -> None:
    """Note a dialog (an alert that ran) and close it."""
    seen.append(dialog.message)
    dialog.dismiss()
