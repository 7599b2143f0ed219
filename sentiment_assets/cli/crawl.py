"""`sentiment crawl` and `sentiment replay-site`: the raw_posts crawler outside Dagster.

`crawl` runs the same code as the `raw_posts` asset: into the lakehouse by default, or into a
JSON Lines file with `--output`. `replay-site` serves the synthetic Inven-shaped site (or a folder
of saved pages) on 127.0.0.1 so crawls, schedules and sensors can be exercised offline.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from sentiment_assets.lib.crawl.boards import DEFAULT_BOARDS
from sentiment_assets.lib.crawl.run import REPLAY_DELAY_S, CrawlOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `crawl` and `replay-site` subcommands."""
    crawl = subparsers.add_parser(
        "crawl",
        help="crawl Inven boards (or the replay site) into raw_posts or a JSONL file",
        description="Crawl boards politely and incrementally, the same way the raw_posts "
        "asset does. Without --base-url, a replay site with synthetic posts is started "
        "in-process and crawled over HTTP.",
    )
    crawl.add_argument("--base-url", help="site to crawl, e.g. https://www.inven.co.kr")
    crawl.add_argument(
        "--boards", default=DEFAULT_BOARDS, help="board ids, e.g. 2294,5974,5974:chu"
    )
    crawl.add_argument("--max-pages", type=int, default=10, help="list pages per board")
    crawl.add_argument("--page-budget", type=int, default=1000, help="requests per run")
    crawl.add_argument("--batch-size", type=int, default=50, help="posts per commit")
    crawl.add_argument(
        "--delay",
        type=float,
        default=None,
        help=f"seconds between requests to a host (default 1.0; {REPLAY_DELAY_S} for the "
        "in-process replay site)",
    )
    crawl.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, s")
    crawl.add_argument(
        "--max-retries", type=int, default=3, help="retries of a timeout, 429 or 5xx (default 3)"
    )
    crawl.add_argument("--comments", action="store_true", help="also fetch comments")
    crawl.add_argument(
        "--retry-failed",
        action="store_true",
        help="only revisit posts and comments recorded in crawl_failures (every unresolved "
        "one, past the retry limit and 404s included); walk no list pages",
    )
    crawl.add_argument(
        "--retry-limit",
        type=int,
        default=5,
        help="runs that may fail on a post before only --retry-failed tries it (default 5)",
    )
    crawl.add_argument(
        "--output",
        type=Path,
        help="write posts to this JSON Lines file (plus .comments/.errors/.failures/.cursors "
        "siblings) instead of the lakehouse",
    )
    crawl.add_argument(
        "--save-pages", type=Path, help="keep every fetched page here (replay-site --pages)"
    )
    crawl.set_defaults(handler=run_crawl_command)

    replay = subparsers.add_parser(
        "replay-site",
        help="serve an Inven-shaped site with synthetic posts on 127.0.0.1",
        description="Serve list pages, articles, robots.txt and the comment endpoint. New "
        "synthetic posts keep appearing as time passes.",
    )
    replay.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    replay.add_argument("--posts", type=int, default=360, help="posts present at start")
    replay.add_argument("--seed", type=int, default=7, help="corpus seed")
    replay.add_argument(
        "--new-post-every", type=float, default=20.0, help="seconds between new posts"
    )
    replay.add_argument(
        "--max-posts", type=int, default=20000, help="stop adding posts at this many"
    )
    replay.add_argument("--page-size", type=int, default=25, help="rows per list page")
    replay.add_argument("--pages", type=Path, help="serve a folder saved by crawl --save-pages")
    replay.set_defaults(handler=run_replay_command)


def run_crawl_command(args: argparse.Namespace) -> int:
    """Crawl and print a JSON summary; page failures are reported, not fatal."""
    from sentiment_assets.lib.crawl.run import crawl_into_jsonl, crawl_into_lakehouse
    from sentiment_assets.lib.lakehouse import Lakehouse
    from sentiment_assets.lib.settings import Paths

    try:
        options = CrawlOptions(
            base_url=args.base_url,
            boards=args.boards,
            max_pages=args.max_pages,
            page_budget=args.page_budget,
            batch_size=args.batch_size,
            comments=args.comments,
            retry_failed_only=args.retry_failed,
            failure_retry_limit=args.retry_limit,
            timeout_s=args.timeout,
            max_retries=args.max_retries,
            **({} if args.delay is None else {"delay_s": args.delay, "replay_delay_s": args.delay}),
        )
        options.board_specs()
    except ValueError as exc:
        print(f"sentiment crawl: {exc}", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    warehouse = Paths.from_env().warehouse
    if args.output:
        report = crawl_into_jsonl(
            options, args.output, warehouse=warehouse, log=log, archive=args.save_pages
        )
        where = str(args.output)
    else:
        report = crawl_into_lakehouse(
            options, Lakehouse(warehouse), log=log, archive=args.save_pages
        )
        where = f"{warehouse} (raw_posts)"
    summary = report.summary()
    summary["written_to"] = where
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_replay_command(args: argparse.Namespace) -> int:
    """Serve until interrupted; the first stdout line is the base URL."""
    from sentiment_assets.lib.crawl.archive import PageArchive
    from sentiment_assets.lib.crawl.replay.server import ReplayServer, synthetic_site
    from sentiment_assets.lib.crawl.replay.sources import SavedPages, SiteSource

    if args.pages is not None and not args.pages.is_dir():
        print(f"sentiment replay-site: {args.pages} is not a folder", file=sys.stderr)
        return 2
    try:
        source: SiteSource = (
            SavedPages(PageArchive(args.pages))
            if args.pages is not None
            else synthetic_site(
                initial_posts=args.posts,
                seed=args.seed,
                new_post_every_s=args.new_post_every,
                max_posts=args.max_posts,
                page_size=args.page_size,
            )
        )
        server = ReplayServer(source, port=args.port)
    except (ValueError, OSError) as exc:
        print(f"sentiment replay-site: {exc}", file=sys.stderr)
        return 2
    print(server.base_url, flush=True)
    print(
        f"serving {'saved pages from ' + str(args.pages) if args.pages else 'synthetic posts'}; "
        f"crawl it with: sentiment crawl --base-url {server.base_url}",
        file=sys.stderr,
        flush=True,
    )
    # SIGTERM ends the server like Ctrl-C does, so the port is released either way.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
