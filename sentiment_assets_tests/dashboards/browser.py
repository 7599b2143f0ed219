"""Open every page of a built dashboards site in headless Chromium and report what it saw.

Used in-process by the browser test and, as `python -m sentiment_assets_tests.dashboards.browser
BUILD_DIR`, inside a loopback-only network namespace by the offline check (it prints the report
as JSON). Debian's chromium only (`make browser`), never one downloaded by Playwright.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from playwright.sync_api import Browser, Request, Response, sync_playwright

from sentiment_assets.lib.dashboards.build import built_pages
from sentiment_assets.lib.dashboards.serve import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
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
CHART = "[_echarts_instance_]"
# Skeletons Evidence shows until a query's data arrives.
LOADING = ".animate-pulse"
WAIT_MS = 60_000
# On this page, also query the page's own DuckDB-WASM directly: proof that the browser engine
# reads the site's Parquet itself (the keyword explorer's charts re-query it as inputs change).
ENGINE_PAGE = "/keywords/"
# Evidence publishes the engine on window before it has been instantiated and opened, and
# registers the site's Parquet later still; prerendered charts can be drawn before either. So
# the probe retries until the engine answers or the deadline passes, then reports the last error.
ENGINE_PROBE = """async (deadlineMs) => {
    const until = Date.now() + deadlineMs;
    for (;;) {
        try {
            const db = window[Symbol.for('EVIDENCE_QUERY_ENGINE')];
            if (!db) throw new Error('no EVIDENCE_QUERY_ENGINE on window');
            const connection = await db.connect();
            try {
                const result = await connection.query(
                    "select version() as version, " +
                    "(select count(*) from marts.sentiment_by_job_week)::integer as job_weeks");
                const row = result.toArray()[0];
                return {version: String(row.version), job_weeks: Number(row.job_weeks)};
            } finally {
                await connection.close();
            }
        } catch (error) {
            if (Date.now() > until) throw error;
            await new Promise(resolve => setTimeout(resolve, 250));
        }
    }
}"""
ABORTED = "net::ERR_ABORTED"


@dataclass
class PageReport:
    """What one page showed and did."""

    path: str
    charts: int = 0
    drawn_charts: int = 0
    skeletons: int = 0
    text: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)


def check_site(
    build_dir: Path, *, screenshots: Path | None = None, shoot: tuple[str, ...] = ()
) -> list[PageReport]:
    """Serve `build_dir` on 127.0.0.1 and open each of its pages; screenshot the `shoot` paths.

    A page is given until the network is idle and no chart is still being drawn.
    """
    server, base = serve_in_thread(build_dir)
    origin = urlsplit(base).netloc
    reports = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for path in built_pages(build_dir):
                    reports.append(_visit(browser, base, origin, path, screenshots, shoot))
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return reports


def _visit(
    browser: Browser,
    base: str,
    origin: str,
    path: str,
    screenshots: Path | None,
    shoot: tuple[str, ...],
) -> PageReport:
    report = PageReport(path=path)
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.on(
        "console",
        lambda message: (
            report.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: report.console_errors.append(f"page error: {error}"))

    def on_failed(request: Request) -> None:
        failure = request.failure
        # Evidence cancels its own superseded fetches of prerendered results: not a failure.
        if failure != ABORTED:
            report.failed_requests.append(f"{request.url}: {failure}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            report.failed_requests.append(f"{response.url}: HTTP {response.status}")

    page.on("requestfailed", on_failed)
    page.on("response", on_response)

    def on_request(request: Request) -> None:
        url = request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != origin:
            report.foreign_requests.append(url)

    page.on("request", on_request)
    page.goto(base + quote(path), wait_until="networkidle", timeout=WAIT_MS)
    # Charts draw after their data arrives; wait until each has its canvas (or svg).
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{CHART}')].every(
                chart => chart.querySelector('canvas, svg'))
            && document.querySelectorAll('{LOADING}').length === 0""",
        timeout=WAIT_MS,
    )
    report.charts = page.locator(CHART).count()
    report.drawn_charts = page.locator(f"{CHART} canvas, {CHART} svg").count()
    report.skeletons = page.locator(LOADING).count()
    report.text = page.inner_text("main") if page.locator("main").count() else ""
    if path == ENGINE_PAGE:
        report.engine = page.evaluate(ENGINE_PROBE, WAIT_MS)
    if screenshots is not None and path in shoot:
        screenshots.mkdir(parents=True, exist_ok=True)
        name = "dashboard" + path.replace("/", "_").rstrip("_") + ".png"
        page.screenshot(path=str(screenshots / name), full_page=True)
    page.close()
    return report


def main(argv: list[str] | None = None) -> int:
    """Check a built site and print the reports as JSON; exit 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for screenshots")
    parser.add_argument("--shoot", action="append", default=[], help="a page path to screenshot")
    args = parser.parse_args(argv)
    reports = check_site(args.build_dir, screenshots=args.screenshots, shoot=tuple(args.shoot))
    print(json.dumps([asdict(r) for r in reports], ensure_ascii=False))
    bad = [r for r in reports if r.console_errors or r.failed_requests or r.foreign_requests]
    return 1 if bad or not reports else 0


if __name__ == "__main__":
    sys.exit(main())
