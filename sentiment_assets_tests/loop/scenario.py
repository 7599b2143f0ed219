"""The loop as a user runs it, step by step, shared by the end-to-end test and bench_loop.

`prepare` makes a first champion and crawls the replay site; `review` is a reviewer working
through the review queue over the HTTP API, accepting the model where it told the truth the
replay site wrote a post with and correcting it elsewhere; `prediction_marts` reads the marts
export as a dashboard would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pandas as pd

from sentiment_assets.lib.crawl.replay.server import synthetic_site
from sentiment_assets.lib.crawl.run import replay_epoch
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.registry.store import RegisteredVersion
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets_tests.feedback.helpers import TOKEN, serve, serving_settings
from sentiment_assets_tests.loop.daemon import LoopDeployment
from sentiment_assets_tests.registry.helpers import seed_base_corpus, train_and_gate

POSTS = 1_100
"""Posts on the replay site at the crawl: one chunk of 1,000 for new_posts_sensor, and some."""
PER_VERSION_MARTS = {"model_quality", "model_confusion"}
"""Comparisons across model versions by design (model_quality marks the serving one)."""
HUMAN_COLUMNS = {
    "final_labeled_posts",
    "agreeing_posts",
    "agreement_share",
    "human_labeled_posts",
    "corrected_posts",
}
"""How the model agrees with people: these move with every review, whatever model serves."""


def prepare(d: LoopDeployment) -> tuple[RegisteredVersion, int]:
    """A first champion (a lexicon on a small general corpus) and the crawled replay site.

    Returns the champion and how many posts the crawl stored.
    """
    lakehouse = Lakehouse(d.warehouse)
    frame = seed_base_corpus(lakehouse, d.root)
    first = train_and_gate(lakehouse, d.models, frame).registered
    d.backdate_replay_site(POSTS)
    d.cli("sentiment", "crawl", "--max-pages", "60", "--page-budget", "5000")
    with lakehouse.session() as lake:
        crawled = int(lake.query("select count(*) as n from lake.raw_posts")["n"].iloc[0])
    return first, crawled


@dataclass(frozen=True)
class Reviews:
    """What the reviewer did."""

    model_version: str
    decisions: list[str]
    feedback_ids: list[int | None]
    last_at: float
    """time.time() when the last review was answered."""


def review(d: LoopDeployment, count: int) -> Reviews:
    """Work through the top `count` posts of the review queue over the HTTP API."""
    site = synthetic_site(start=replay_epoch(d.warehouse))
    settings = serving_settings(d.root, model_check_interval_s=0.0, review_cache_s=0.0)
    decisions, feedback_ids = [], []
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as api:
        queue = api.get("/review-queue", params={"limit": count})
        queue.raise_for_status()
        items = queue.json()["items"]
        if len(items) != count:
            raise AssertionError(f"the review queue holds {len(items)} posts, not {count}")
        for item in items:
            post = site.find(item["board_id"], item["post_id"])
            if post is None:
                raise AssertionError(
                    f"the replay site has no post {item['board_id']}/{item['post_id']}"
                )
            accept = item["label"] == post.tone
            body = {
                "board_id": item["board_id"],
                "post_id": item["post_id"],
                "decision": "accept" if accept else "correct",
                "idempotency_key": f"loop-{item['board_id']}-{item['post_id']}",
            }
            if not accept:
                body["corrected_label"] = post.tone
            answer = api.post("/review", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
            if answer.status_code != 200:
                raise AssertionError(f"POST /review answered {answer.status_code}: {answer.text}")
            decisions.append(str(body["decision"]))
            feedback_ids.append(answer.json()["feedback_id"])
        return Reviews(queue.json()["model_version"], decisions, feedback_ids, time.time())


def prediction_marts(marts_file: Path) -> dict[str, pd.DataFrame]:
    """Every mart of the export that carries model_version, sorted; what people add, left out."""
    out = {}
    with duckdb.connect(str(marts_file), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_columns() where column_name = 'model_version'"
            ).fetchall()
        ]
        for table in tables:
            frame = con.execute(f'select * from "{table}"').df()
            if table not in PER_VERSION_MARTS:
                frame = frame.drop(columns=[c for c in HUMAN_COLUMNS if c in frame.columns])
            if table == "serving_model":
                frame = frame.drop(columns=["serving_since", "reason"])
            out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def marts_versions(marts: dict[str, pd.DataFrame]) -> set[str]:
    """The model versions the one-model marts carry."""
    versions: set[str] = set()
    for table, frame in marts.items():
        if table not in PER_VERSION_MARTS:
            versions |= set(frame["model_version"])
    return versions
