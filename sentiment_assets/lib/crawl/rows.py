"""Parsed pages as rows: an article as a raw_posts row, a comment answer as raw_comments rows."""

from __future__ import annotations

from collections.abc import Iterable

from sentiment_assets.lib.crawl.boards import Board, clean_category, job_for
from sentiment_assets.lib.crawl.hashing import author_hash, content_hash
from sentiment_assets.lib.crawl.parser import Article, Comment
from sentiment_assets.lib.crawl.records import RawComment, RawPost, kst_to_utc, utc_now
from sentiment_assets.lib.crawl.settings import CrawlSettings


def post_row(
    board: Board, post_id: int, url: str, article: Article, settings: CrawlSettings
) -> RawPost:
    """The raw_posts row of a parsed article; the author is kept only as a salted hash."""
    category = clean_category(article.category)
    return RawPost(
        board_id=board.board_id,
        post_id=post_id,
        board_name=board.name,
        job_group=board.job_group,
        category=category,
        job=job_for(category),
        title=article.title,
        body=article.body,
        has_media=article.has_media,
        author_hash=author_hash(article.author, settings.author_salt),
        posted_at=kst_to_utc(article.posted_at),
        views=article.views,
        recommends=article.recommends,
        url=url,
        content_hash=content_hash(article.title, article.body),
        crawled_at=utc_now(),
        crawl_run=settings.run_id,
    )


def comment_rows(
    board_id: int, post_id: int, comments: Iterable[Comment], settings: CrawlSettings
) -> list[RawComment]:
    """The raw_comments rows of one post's parsed comment answer."""
    now = utc_now()
    return [
        RawComment(
            board_id=board_id,
            post_id=post_id,
            comment_id=comment.comment_id,
            parent_id=comment.parent_id,
            author_hash=author_hash(comment.author, settings.author_salt),
            body=comment.body,
            posted_at=kst_to_utc(comment.posted_at) if comment.posted_at else None,
            recommends=comment.recommends,
            crawled_at=now,
            crawl_run=settings.run_id,
        )
        for comment in comments
    ]
