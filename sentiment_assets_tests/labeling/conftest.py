"""Fixtures for the labeling tests: fake LLM servers and a raw_posts table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest

from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer
from sentiment_assets.lib.labeling.records import LabelAttempt
from sentiment_assets.lib.lakehouse import Lakehouse

# The crawler's raw_posts schema (issue 3); tests create the table themselves.
RAW_POSTS_DDL = """
create table if not exists lake.raw_posts (
    board_id integer, post_id bigint, board_name varchar, job_group varchar, category varchar,
    job varchar, title varchar, body varchar, author_hash varchar, posted_at timestamp,
    views integer, recommends integer, url varchar, content_hash varchar, crawled_at timestamp
)
"""
TEXTS = ("보스 보상 너프 진짜 최악", "22성 강화 성공 너무 행복", "아델 코어 순서 질문드립니다")


def add_raw_posts(
    lakehouse: Lakehouse, n: int, *, start: int = 1, board_id: int = 2294, texts=TEXTS
) -> None:
    """Append `n` posts with ids start.. (arrival order = id order) to raw_posts."""
    base = datetime(2026, 1, 1)
    ids = range(start, start + n)
    frame = pd.DataFrame(
        {
            "board_id": board_id,
            "post_id": list(ids),
            "board_name": "전사",
            "job_group": "전사",
            "category": "히어로",
            "job": "히어로",
            "title": [f"글 {i}" for i in ids],
            "body": [texts[i % len(texts)] for i in ids],
            "author_hash": "h",
            "posted_at": [base + timedelta(minutes=i) for i in ids],
            "views": 1,
            "recommends": 0,
            "url": [f"https://example.invalid/{board_id}/{i}" for i in ids],
            "content_hash": [f"c{i}" for i in ids],
            "crawled_at": [base + timedelta(minutes=i, seconds=5) for i in ids],
        }
    )
    with lakehouse.session() as lake:
        if not lake.table_exists("raw_posts"):
            lake.transaction(lambda con: con.execute(RAW_POSTS_DDL), message="create raw_posts")
        lake.append("raw_posts", frame, key=("board_id", "post_id"))


def assert_no_invented_labels(attempts: list[LabelAttempt]) -> None:
    """Only ok attempts carry a label; every other attempt says why it has none."""
    for a in attempts:
        if a.status == "ok":
            assert a.label in ("부정", "중립", "긍정") and 0 <= (a.confidence or 0) <= 1, a
        else:
            assert a.label is None and a.confidence is None and a.error, a


@pytest.fixture
def openai_server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer("openai") as server:
        yield server


@pytest.fixture
def gemini_server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer("gemini") as server:
        yield server
