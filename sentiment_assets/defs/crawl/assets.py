"""raw_posts: the Inven boards, crawled politely and incrementally into the lakehouse."""

import dagster as dg

from sentiment_assets.defs.crawl.resources import InvenCrawlerResource
from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.crawl.run import crawl_into_lakehouse


@dg.asset(
    group_name="crawl",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    kinds={"python", "duckdb"},
    description="One row per Inven post, keyed by (board_id, post_id): title, plain-text body, "
    "salted author hash, posted_at and crawled_at (UTC), views, recommends, raw category with "
    "the mapped job and job group, url and content hash. Append-only and deduplicated, never "
    "rewritten. Pages that fail go to crawl_errors with a saved copy; posts (or comments) that "
    "still fail after the in-run retries to crawl_failures, from which later runs fetch them "
    "again; cursors to crawl_cursors.",
)
def raw_posts(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, inven: InvenCrawlerResource
) -> dg.MaterializeResult:
    """Crawl each configured board until a page brings nothing new, committing in batches."""
    lake = lakehouse.get()
    options = inven.options()
    report = crawl_into_lakehouse(options, lake, run_id=context.run_id, log=context.log.info)
    with lake.session() as session:
        total = int(session.query("select count(*) as n from lake.raw_posts")["n"].iloc[0])
        snapshot_id = session.current_snapshot_id()
    boards = report.boards
    return dg.MaterializeResult(
        metadata={
            "new_posts": report.new_posts,
            "new_posts_by_board": dg.MetadataValue.json({b.board_key: b.new_posts for b in boards}),
            "pages": report.pages,
            "list_pages": sum(b.list_pages for b in boards),
            "article_pages": sum(b.article_pages for b in boards),
            "errors": report.errors,
            "errors_by_board": dg.MetadataValue.json({b.board_key: b.errors for b in boards}),
            "failed_posts": sum(b.failed_posts for b in boards),
            "retried_failures": sum(b.retried_failures for b in boards),
            "recovered_posts": sum(b.recovered for b in boards),
            "stop_by_board": dg.MetadataValue.json({b.board_key: b.stop for b in boards}),
            "requests": report.requests,
            "elapsed_s": round(report.elapsed_s, 3),
            "source": options.base_url or "replay site (synthetic, in-process)",
            "dagster/row_count": total,
            "snapshot_id": snapshot_id,
        }
    )


crawl_schedule = dg.ScheduleDefinition(
    name="crawl_schedule",
    cron_schedule="*/10 * * * *",
    target=raw_posts,
    description="Every 10 minutes: crawl each configured board until a page brings nothing new.",
)
