"""Read what a refinement round works on from the lakehouse, one row per post.

Sources, each optional (a missing table means "nothing of that kind yet"):
- `labeled_chunks`: the newest `ok` attempt per post, an LLM label preferred over a weak one;
  the text comes from `raw_chunks` (exactly what was labeled, `post_text(title, body)`). A post
  the labeler flagged `injection_suspected` (it reads like instructions to the LLM) gets no
  machine label at all: its LLM answer stays in `labeled_chunks`, kept aside, and the post
  waits for a person (it ranks first in the review queue);
- `feedback`: the newest human correction per post (free-text corrections without a post id
  name no post here; training reads them from `feedback` directly);
- `ensemble_predictions`: the champion's scored rows when it has any, else the newest model
  version's (versions are sortable timestamps);
- `raw_posts`: board and job for the bias checks, and the text of a post only people labeled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.refine.tables import current_labels
from sentiment_assets.lib.text.normalize import post_text, text_hash

LABELED_CHUNKS = "labeled_chunks"
RAW_CHUNKS = "raw_chunks"
FEEDBACK = "feedback"
PREDICTIONS = "ensemble_predictions"
RAW_POSTS = "raw_posts"
_LABEL_LIST = ", ".join(f"'{label}'" for label in LABELS)


@dataclass
class RoundInputs:
    """Everything one round reads, each frame keyed by (board_id, post_id)."""

    machine_labels: pd.DataFrame
    """board_id, post_id, label, confidence, is_weak, labeler, labeled_at, text."""
    human_labels: pd.DataFrame
    """board_id, post_id, feedback_id, label, reviewer, created_at."""
    predictions: pd.DataFrame
    """board_id, post_id, ensemble_label, ensemble_confidence, member_probabilities."""
    model_version: str | None
    posts: pd.DataFrame
    """board_id, post_id, job, text (post_text of title and body)."""
    current: pd.DataFrame
    """current_labels(lake) before the round."""
    snapshot_id: int
    suspected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=pd.Index(["board_id", "post_id"]))
    )
    """board_id, post_id of suspected prompt injections: only a person may label them."""


def _columns(lake: LakeSession, table: str) -> set[str]:
    rows = lake.con.execute(
        "select column_name from duckdb_columns() where database_name = 'lake' and table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _suspects_sql(lake: LakeSession) -> str | None:
    """SQL for (board_id, post_id) of flagged posts; None when the lake cannot flag any."""
    if not lake.table_exists(LABELED_CHUNKS):
        return None
    if "injection_suspected" not in _columns(lake, LABELED_CHUNKS):
        return None
    # Any attempt's flag counts: the flag is about the post's text, not about one answer.
    return f"select distinct board_id, post_id from lake.{LABELED_CHUNKS} where injection_suspected"


def injection_suspects(lake: LakeSession) -> pd.DataFrame:
    """board_id, post_id of every post the labeler flagged as a suspected prompt injection."""
    sql = _suspects_sql(lake)
    if sql is None:
        return pd.DataFrame(columns=pd.Index(["board_id", "post_id"]))
    return lake.query(sql + " order by board_id, post_id")


def machine_labels(lake: LakeSession) -> pd.DataFrame:
    """The label each chunked post has from labeling: newest ok attempt, LLM before weak.

    Suspected prompt injections are left out (see the module docstring).
    """
    columns = ["board_id", "post_id", "label", "confidence", "is_weak", "labeler", "labeled_at"]
    if not (lake.table_exists(LABELED_CHUNKS) and lake.table_exists(RAW_CHUNKS)):
        return pd.DataFrame(columns=pd.Index([*columns, "text"]))
    kept_aside = ""
    if _suspects_sql(lake) is not None:
        kept_aside = (
            f"and not exists (select 1 from lake.{LABELED_CHUNKS} s where s.board_id = "
            "l.board_id and s.post_id = l.post_id and s.injection_suspected)"
        )
    return lake.query(
        f"""
        select l.board_id, l.post_id, l.label, l.confidence, coalesce(l.is_weak, false) as is_weak,
               l.provider || ':' || l.model as labeler, l.labeled_at, c.text
        from lake.{LABELED_CHUNKS} l
        join lake.{RAW_CHUNKS} c on c.board_id = l.board_id and c.post_id = l.post_id
        where l.status = 'ok' and l.label in ({_LABEL_LIST}) {kept_aside}
        qualify row_number() over (
            partition by l.board_id, l.post_id
            order by coalesce(l.is_weak, false), l.labeled_at desc, l.attempt desc) = 1
        """
    )


def human_labels(lake: LakeSession) -> pd.DataFrame:
    """The newest human correction of each post that has one."""
    columns = ["board_id", "post_id", "feedback_id", "label", "reviewer", "created_at"]
    if not lake.table_exists(FEEDBACK):
        return pd.DataFrame(columns=pd.Index(columns))
    return lake.query(
        f"""
        select board_id, post_id, feedback_id, new_label as label, reviewer, created_at
        from lake.{FEEDBACK}
        where board_id is not null and post_id is not null and new_label in ({_LABEL_LIST})
        qualify row_number() over (partition by board_id, post_id order by feedback_id desc) = 1
        """
    )


def serving_version(lake: LakeSession, preferred_version: str | None) -> str | None:
    """`preferred_version` when it has scored posts, else the newest version; None if none.

    `ensemble_predictions` must exist.
    """
    row = lake.con.execute(
        f"select coalesce(max(model_version) filter (where model_version = ?), "
        f"max(model_version)) from lake.{PREDICTIONS}",
        [preferred_version],
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def newest_predictions(
    lake: LakeSession, *, preferred_version: str | None = None
) -> tuple[str | None, pd.DataFrame]:
    """The model version to trust and its scored (status ok) predictions.

    `preferred_version` (the registry's champion) when it has scored posts, else the newest:
    after a rollback the newest version is a rejected challenger, not the model that serves.
    """
    columns = [
        "board_id",
        "post_id",
        "ensemble_label",
        "ensemble_confidence",
        "member_probabilities",
    ]
    if not lake.table_exists(PREDICTIONS):
        return None, pd.DataFrame(columns=pd.Index(columns))
    version = serving_version(lake, preferred_version)
    if version is None:
        return None, pd.DataFrame(columns=pd.Index(columns))
    members = (
        "member_probabilities"
        if "member_probabilities" in _columns(lake, PREDICTIONS)
        else "null as member_probabilities"
    )
    frame = lake.query(
        f"""
        select board_id, post_id, label as ensemble_label, confidence as ensemble_confidence,
               {members}
        from lake.{PREDICTIONS}
        where model_version = ? and label is not null
        qualify row_number() over (partition by board_id, post_id order by scored_at desc) = 1
        """,
        [version],
    )
    return version, frame


def posts(lake: LakeSession) -> pd.DataFrame:
    """board_id, post_id, job and the training text of every crawled post."""
    if not lake.table_exists(RAW_POSTS):
        return pd.DataFrame(columns=pd.Index(["board_id", "post_id", "job", "text"]))
    job = "job" if "job" in _columns(lake, RAW_POSTS) else "null as job"
    frame = lake.query(
        f"select board_id, post_id, {job}, title, body from lake.{RAW_POSTS} "
        "qualify row_number() over (partition by board_id, post_id) = 1"
    )
    frame["text"] = [post_text(t, b) for t, b in zip(frame["title"], frame["body"], strict=True)]
    return frame.drop(columns=["title", "body"])


def read_inputs(lake: LakeSession, *, champion_version: str | None = None) -> RoundInputs:
    """Everything the round needs, read at one snapshot; see `newest_predictions`."""
    snapshot_id = lake.current_snapshot_id()
    version, predictions = newest_predictions(lake, preferred_version=champion_version)
    return RoundInputs(
        machine_labels=machine_labels(lake),
        human_labels=human_labels(lake),
        predictions=predictions,
        model_version=version,
        posts=posts(lake),
        current=current_labels(lake),
        snapshot_id=snapshot_id,
        suspected=injection_suspects(lake),
    )


def member_variance(member_probabilities: pd.Series) -> float | None:
    """Mean over posts and classes of the variance across members of their probabilities.

    None when fewer than two members scored any post (one member has no variance to measure).
    """
    values = []
    for raw in member_probabilities.dropna():
        parsed = json.loads(raw) if isinstance(raw, str) else raw
        rows = [p for p in (parsed or {}).values() if p is not None]
        if len(rows) >= 2:
            values.append(float(np.var(np.asarray(rows, dtype=np.float64), axis=0).mean()))
    return float(np.mean(values)) if values else None


def hash_text(texts: pd.Series) -> list[str]:
    """text_hash of each text."""
    return [text_hash(str(t)) for t in texts]
