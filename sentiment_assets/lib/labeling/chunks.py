"""raw_posts -> raw_chunks -> labeled_chunks in the lakehouse, without Dagster.

Chunk order is arrival order: (crawled_at, board_id, post_id). raw_posts is append-only, so the
first N unchunked posts in that order stay the same while new posts arrive; the sensor and the
`raw_chunks` asset therefore agree on where the next chunk ends (its boundary post), which is
what the sensor's run key names. A post is in at most one chunk (appends are keyed by
(board_id, post_id)), so "unchunked" is an exact anti-join, never a guess from a cursor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from sentiment_assets.lib.labeling.records import LabelAttempt
from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.text.normalize import post_text, text_hash

RAW_POSTS = "raw_posts"
RAW_CHUNKS = "raw_chunks"
LABELED_CHUNKS = "labeled_chunks"

RAW_CHUNKS_DDL = """
create table if not exists lake.raw_chunks (
    chunk_id varchar,
    chunk_seq integer,
    position integer,
    board_id integer,
    post_id bigint,
    text varchar,
    text_hash varchar,
    posted_at timestamp,
    crawled_at timestamp,
    chunk_size integer,
    is_partial boolean,
    chunked_at timestamp
)
"""

LABELED_CHUNKS_DDL = """
create table if not exists lake.labeled_chunks (
    chunk_id varchar,
    board_id integer,
    post_id bigint,
    labeling_run_id varchar,
    attempt integer,
    status varchar,
    label varchar,
    confidence double,
    rationale varchar,
    provider varchar,
    model varchar,
    prompt_version varchar,
    is_weak boolean,
    cached boolean,
    tokens_in integer,
    tokens_out integer,
    latency_ms double,
    cost_usd double,
    request_id varchar,
    batch_size integer,
    raw_response varchar,
    error varchar,
    injection_suspected boolean,
    text_hash varchar,
    labeled_at timestamp
)
"""

_ORDER = "crawled_at, board_id, post_id"


def _utc_now() -> datetime:
    # Naive UTC, like every timestamp in the lake (see lib/crawl/records.py).
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class PendingPosts:
    """Unchunked posts right now, and where a chunk of `threshold` of them would end."""

    count: int
    boundary: tuple[int, int] | None
    """(board_id, post_id) of the threshold-th unchunked post; None when there are fewer."""


@dataclass(frozen=True)
class FrozenChunk:
    """One chunk written to raw_chunks."""

    chunk_id: str
    size: int
    first: tuple[int, int]
    last: tuple[int, int]
    is_partial: bool


def chunk_id_for(seq: int) -> str:
    """The id of the `seq`-th chunk (1-based): sortable and readable."""
    return f"chunk-{seq:06d}"


def boundary_key(boundary: tuple[int, int]) -> str:
    """The run key of the chunk ending at `boundary`: derived from the data, never the clock."""
    return f"chunk-through-{boundary[0]}-{boundary[1]}"


def _unchunked_sql(lake: LakeSession, columns: str) -> str:
    source = f"select {columns} from lake.{RAW_POSTS} p"
    if lake.table_exists(RAW_CHUNKS):
        source += (
            f" where not exists (select 1 from lake.{RAW_CHUNKS} c "
            "where c.board_id = p.board_id and c.post_id = p.post_id)"
        )
    return source


def pending_posts(lake: LakeSession, threshold: int) -> PendingPosts:
    """Count unchunked posts and find the boundary of the next full chunk (read-only)."""
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    if not lake.table_exists(RAW_POSTS):
        return PendingPosts(0, None)
    unchunked = _unchunked_sql(lake, "p.board_id, p.post_id, p.crawled_at")
    count = int(lake.query(f"select count(*) as n from ({unchunked})")["n"].iloc[0])
    if count < threshold:
        return PendingPosts(count, None)
    row = lake.query(
        f"select board_id, post_id from ({unchunked}) order by {_ORDER} limit 1 offset ?",
        [threshold - 1],
    ).iloc[0]
    return PendingPosts(count, (int(row["board_id"]), int(row["post_id"])))


def freeze_chunks(
    lake: LakeSession, *, threshold: int, flush: bool, now: datetime | None = None
) -> list[FrozenChunk]:
    """Write every full chunk of `threshold` unchunked posts; with `flush`, the rest as well.

    Returns the chunks written, oldest first; an empty list when too few posts are waiting.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    if not lake.table_exists(RAW_POSTS):
        return []
    if not lake.table_exists(RAW_CHUNKS):
        lake.transaction(lambda con: con.execute(RAW_CHUNKS_DDL), message="create raw_chunks")
    unchunked = _unchunked_sql(
        lake, "p.board_id, p.post_id, p.title, p.body, p.posted_at, p.crawled_at"
    )
    posts = lake.query(f"select * from ({unchunked}) order by {_ORDER}")
    full = len(posts) // threshold * threshold
    take = len(posts) if flush else full
    if take == 0:
        return []
    posts = posts.iloc[:take].reset_index(drop=True)
    last_seq = lake.query(f"select coalesce(max(chunk_seq), 0) as s from lake.{RAW_CHUNKS}")
    seq0 = int(last_seq["s"].iloc[0])
    stamp = pd.Timestamp(now or _utc_now())
    texts = [post_text(t, b) for t, b in zip(posts["title"], posts["body"], strict=True)]
    index = pd.RangeIndex(len(posts))
    frame = pd.DataFrame(
        {
            "chunk_id": [chunk_id_for(seq0 + 1 + i // threshold) for i in index],
            "chunk_seq": [seq0 + 1 + i // threshold for i in index],
            "position": [i % threshold + 1 for i in index],
            "board_id": posts["board_id"].astype("int32"),
            "post_id": posts["post_id"].astype("int64"),
            "text": texts,
            "text_hash": [text_hash(t) for t in texts],
            "posted_at": posts["posted_at"],
            "crawled_at": posts["crawled_at"],
            "chunk_size": [min(threshold, take - i // threshold * threshold) for i in index],
            "is_partial": [take - i // threshold * threshold < threshold for i in index],
            "chunked_at": stamp,
        }
    )
    lake.append(RAW_CHUNKS, frame, key=("board_id", "post_id"))
    chunks = []
    for chunk_id, rows in frame.groupby("chunk_id", sort=True):
        chunks.append(
            FrozenChunk(
                chunk_id=str(chunk_id),
                size=len(rows),
                first=(int(rows["board_id"].iloc[0]), int(rows["post_id"].iloc[0])),
                last=(int(rows["board_id"].iloc[-1]), int(rows["post_id"].iloc[-1])),
                is_partial=bool(rows["is_partial"].iloc[0]),
            )
        )
    return chunks


def posts_to_label(
    lake: LakeSession,
    *,
    provider: str,
    model: str,
    prompt_version: str | None,
    max_attempts: int,
    limit: int | None = None,
) -> pd.DataFrame:
    """Chunked posts still waiting for a label from this labeler, in chunk order.

    Waiting means: no `ok` row yet (a weak row does not count when an LLM is labeling), and
    fewer than `max_attempts` `invalid` rows from this very provider, model and prompt, so a post
    a model cannot handle is not paid for again and again (it waits for people or a new prompt).
    `failed` rows (outages, budget) never count against a post.
    """
    if not lake.table_exists(RAW_CHUNKS):
        return pd.DataFrame(columns=pd.Index(["chunk_id", "board_id", "post_id", "text"]))
    sql = f"select c.chunk_id, c.board_id, c.post_id, c.text from lake.{RAW_CHUNKS} c"
    params: list[object] = []
    if lake.table_exists(LABELED_CHUNKS):
        done = "l.status = 'ok'" + ("" if provider == "weak" else " and not l.is_weak")
        sql += (
            f" where not exists (select 1 from lake.{LABELED_CHUNKS} l where l.board_id ="
            f" c.board_id and l.post_id = c.post_id and {done})"
            f" and (select count(*) from lake.{LABELED_CHUNKS} l where l.board_id = c.board_id"
            " and l.post_id = c.post_id and l.status = 'invalid' and l.provider = ?"
            " and l.model = ? and l.prompt_version is not distinct from ?) < ?"
        )
        params += [provider, model, prompt_version, max_attempts]
    sql += " order by c.chunk_seq, c.position"
    if limit is not None:
        sql += f" limit {int(limit)}"
    return lake.query(sql, params)


def post_key(board_id: int, post_id: int) -> str:
    """The labeling key of a post: unique across boards."""
    return f"{board_id}:{post_id}"


def attempts_frame(
    attempts: Sequence[LabelAttempt],
    posts: Mapping[str, tuple[str, int, int]],
    *,
    run_id: str,
    labeled_at: datetime | None = None,
) -> pd.DataFrame:
    """labeled_chunks rows for `attempts`; `posts` maps a key to (chunk_id, board_id, post_id)."""
    stamp = pd.Timestamp(labeled_at or _utc_now())
    records = []
    for a in attempts:
        chunk_id, board_id, post_id = posts[a.key]
        row = a.as_row()
        row.pop("key")
        row.update(chunk_id=chunk_id, board_id=board_id, post_id=post_id)
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=pd.Index(_FRAME_COLUMNS[:-2]))
    frame["labeling_run_id"] = run_id
    frame["labeled_at"] = stamp
    # Nullable dtypes so a missing label or cost lands as NULL, never as NaN or "None".
    return frame.astype(_FRAME_DTYPES)


_FRAME_DTYPES = {
    "chunk_id": "string",
    "board_id": "Int32",
    "post_id": "Int64",
    "attempt": "Int32",
    "status": "string",
    "label": "string",
    "confidence": "Float64",
    "rationale": "string",
    "provider": "string",
    "model": "string",
    "prompt_version": "string",
    "is_weak": "boolean",
    "cached": "boolean",
    "tokens_in": "Int32",
    "tokens_out": "Int32",
    "latency_ms": "Float64",
    "cost_usd": "Float64",
    "request_id": "string",
    "batch_size": "Int32",
    "raw_response": "string",
    "error": "string",
    "injection_suspected": "boolean",
    "text_hash": "string",
}
_FRAME_COLUMNS = (*_FRAME_DTYPES, "labeling_run_id", "labeled_at")


def write_attempts(lake: LakeSession, frame: pd.DataFrame) -> int:
    """Append attempt rows to labeled_chunks (created on first use); returns rows written."""
    if not lake.table_exists(LABELED_CHUNKS):
        lake.transaction(
            lambda con: con.execute(LABELED_CHUNKS_DDL), message="create labeled_chunks"
        )
    result = lake.append(
        LABELED_CHUNKS, frame, key=("board_id", "post_id", "labeling_run_id", "attempt")
    )
    return result.rows_written
