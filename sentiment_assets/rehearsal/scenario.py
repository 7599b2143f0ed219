"""The loop as a user runs it, step by step, shared by the end-to-end test and bench_loop.

`prepare` makes a first champion (on the embedded demo corpus unless given one) and crawls the
replay site; `review` is a reviewer working
through the review queue over the HTTP API, accepting the model where it told the truth the
replay site wrote a post with and correcting it elsewhere; `prediction_marts` reads the marts
export as a dashboard would.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pandas as pd

from sentiment_assets.lib.corpus.embedded import embedded_corpus
from sentiment_assets.lib.crawl.replay.server import synthetic_site
from sentiment_assets.lib.crawl.run import replay_epoch
from sentiment_assets.lib.feedback.connection import default_path
from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.registry.store import RegisteredVersion
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.in_thread import serve_app
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets.rehearsal.champion import lexicon_champion, seed_base_corpus, splits
from sentiment_assets.rehearsal.deployment import LoopDeployment, RehearsalError

FIRST_CORPUS_ROWS_PER_LABEL = 100
"""A small first corpus: the first champion should leave the reviewers work to do."""
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


def prepare(d: LoopDeployment, corpus: pd.DataFrame | None = None) -> tuple[RegisteredVersion, int]:
    """A first champion and the crawled replay site.

    The champion is a lexicon on `corpus` (by default a small embedded demo corpus), which is
    stored as `base_corpus` too. Returns the champion and how many posts the crawl stored.
    """
    lakehouse = Lakehouse(d.warehouse)
    frame = embedded_corpus(FIRST_CORPUS_ROWS_PER_LABEL) if corpus is None else corpus
    seed_base_corpus(lakehouse, frame)
    train, dev = splits(frame)
    first = lexicon_champion(lakehouse, d.models, train, dev).registered
    if first is None:
        raise RehearsalError("the first champion was not registered")
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
    settings = ServingSettings(
        warehouse=d.warehouse,
        models=d.models,
        feedback_db=default_path(d.warehouse),
        model_check_interval_s=0.0,
        review_cache_s=0.0,
    )
    # What an operator does for a new reviewer (`sentiment reviewers create`), one per call.
    token = FeedbackStore(settings.feedback_db).create_reviewer(f"rehearsal-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {token}"}
    decisions, feedback_ids = [], []
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as api:
        queue = api.get("/review-queue", params={"limit": count})
        queue.raise_for_status()
        items = queue.json()["items"]
        if len(items) != count:
            raise RehearsalError(f"the review queue holds {len(items)} posts, not {count}")
        for item in items:
            post = site.find(item["board_id"], item["post_id"])
            if post is None:
                raise RehearsalError(
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
            answer = api.post("/review", json=body, headers=headers)
            if answer.status_code != 200:
                raise RehearsalError(f"POST /review answered {answer.status_code}: {answer.text}")
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
