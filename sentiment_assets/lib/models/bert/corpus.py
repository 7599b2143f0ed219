"""The unlabeled texts masked-LM pre-training reads from the lakehouse, pinned to one snapshot.

Pre-training needs no labels, so it takes every text it may see: the base corpus (train and
dev splits; test stays unseen so evaluation remains honest) and the crawled posts (title + body,
as the models see them), de-duplicated.
"""

from __future__ import annotations

import duckdb
import numpy as np

from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.text.normalize import post_text

BASE_CORPUS = "base_corpus"
RAW_POSTS = "raw_posts"


def _columns(lake: LakeSession, table: str, at: str) -> set[str] | None:
    try:
        return set(lake.query(f"select * from lake.{table} {at} limit 0").columns)
    except duckdb.CatalogException:
        return None


def read_pretraining_texts(
    lake: LakeSession, *, snapshot_id: int, max_texts: int | None = None, seed: int = 13
) -> tuple[list[str], dict[str, int]]:
    """Texts for pre-training as of `snapshot_id`, and how many each table gave.

    Args:
        lake: An open lakehouse session.
        snapshot_id: The snapshot to read (record it with the checkpoint).
        max_texts: Keep a seeded random sample of at most this many texts (None: all).
        seed: Sampling seed.

    Raises:
        ValueError: base_corpus is missing or has no `text` column.
    """
    at = f"at (version => {int(snapshot_id)})"
    columns = _columns(lake, BASE_CORPUS, at)
    if columns is None:
        raise ValueError(f"lake table {BASE_CORPUS} is missing: materialize base_corpus first")
    if "text" not in columns:
        raise ValueError(f"lake table {BASE_CORPUS} has no text column (columns: {columns})")
    where = "where text is not null" + (
        " and split is distinct from 'test'" if "split" in columns else ""
    )
    base = lake.query(f"select text from lake.{BASE_CORPUS} {at} {where}")["text"].tolist()
    posts: list[str] = []
    post_columns = _columns(lake, RAW_POSTS, at)
    if post_columns is not None and {"title", "body"} <= post_columns:
        frame = lake.query(f"select title, body from lake.{RAW_POSTS} {at}")
        posts = [post_text(t, b) for t, b in zip(frame["title"], frame["body"], strict=True)]
    elif post_columns is not None:
        raise ValueError(f"lake table {RAW_POSTS} has no title/body columns ({post_columns})")
    texts = list(dict.fromkeys(t for t in [*base, *posts] if isinstance(t, str) and t.strip()))
    if max_texts is not None and len(texts) > max_texts:
        keep = np.sort(np.random.default_rng(seed).choice(len(texts), max_texts, replace=False))
        texts = [texts[i] for i in keep]
    return texts, {BASE_CORPUS: len(base), RAW_POSTS: len(posts)}
