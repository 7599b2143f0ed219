"""The review queue: the posts people should look at first, read from the lakehouse.

Only the serving model's predictions are ranked: the champion's version when the caller names
it and it has scored posts, else the newest (after a rollback the newest version is a rejected
challenger, not the model people review against). The score adds three signals, each in
[0, 1]: uncertainty (1 - calibrated confidence), member disagreement, and a label-error score
(1 - the ensemble's probability of the label the LLM gave the post, when `labeled_chunks` holds
one) — the confident-learning idea that a label the model finds unlikely is worth a second look.
Posts the labeler flagged `injection_suspected` (they read like instructions to the LLM) come
before everything else: their LLM label is kept aside (`lib/refine/inputs.py` never trains on
it), so until a person labels them they have no usable label at all. Every ranked row says why
it ranks where it does (`reason`). Posts already reviewed (kept in the feedback store) are left
out unless asked for.

Each member's probabilities come from the `member_probabilities` JSON column the scorer writes
(`lib/models/scoring.py`: `{"lexicon": [p_neg, p_neu, p_pos], ...}`), parsed into the
`member_probabilities` dict of each ranked row.

The lake is read through its own short-lived connection: DuckLake's SQLite catalog lets this
reader run beside the pipeline's writer without blocking it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.refine.inputs import serving_version
from sentiment_assets.lib.refine.tables import LABEL_QUALITY

PREDICTIONS = "ensemble_predictions"
POSTS = "raw_posts"
LABELS_TABLE = "labeled_chunks"
QUALITY = LABEL_QUALITY
_PROB = {"부정": "p_neg", "중립": "p_neu", "긍정": "p_pos"}
LABEL_ORDER = ("부정", "중립", "긍정")
"""The order of each member's three probabilities in `member_probabilities`."""
INJECTION_REASON = (
    "suspected prompt injection: the post reads like instructions to the labeler, so its LLM "
    "label{kept} is kept aside and nothing trains on it until a person labels it"
)


@dataclass(frozen=True)
class QueueFilter:
    """Which posts to rank."""

    board_id: int | None = None
    job: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50


@dataclass(frozen=True)
class PostPrediction:
    """The serving model's prediction for one post: what a review decision is made against."""

    board_id: int
    post_id: int
    model_version: str
    label: str
    confidence: float


def naive_utc(moment: datetime) -> datetime:
    """`moment` as the naive UTC the lake stores; a naive `moment` is taken as UTC already.

    DuckDB refuses to compare a zone-aware value with the lake's naive timestamps, and a shift
    past year 1 or 9999 cannot be represented, so those clamp to the ends of time.
    """
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if moment.year < 5000 else datetime.max


def _columns(lake: LakeSession, table: str) -> set[str]:
    rows = lake.con.execute(
        "select column_name from duckdb_columns() where database_name = 'lake' and table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def shown_prediction(
    lake: LakeSession, board_id: int, post_id: int, *, preferred_version: str | None = None
) -> PostPrediction | None:
    """A post's prediction by `preferred_version` (the champion), else by the newest version.

    None when the post has no scored prediction.
    """
    if not lake.table_exists(PREDICTIONS):
        return None
    row = lake.con.execute(
        f"select model_version, label, confidence from lake.{PREDICTIONS} "
        "where board_id = ? and post_id = ? and label is not null "
        "order by model_version = ? desc nulls last, model_version desc limit 1",
        [board_id, post_id, preferred_version],
    ).fetchone()
    if row is None:
        return None
    return PostPrediction(board_id, post_id, str(row[0]), str(row[1]), float(row[2]))


def rank(
    lake: LakeSession,
    where: QueueFilter,
    reviewed: pd.DataFrame,
    *,
    include_reviewed: bool,
    preferred_version: str | None = None,
) -> tuple[str | None, pd.DataFrame, int, int]:
    """Rank posts for review.

    Args:
        lake: an open lake session.
        where: the filters and how many posts to return.
        reviewed: reviewed posts, columns board_id and post_id.
        include_reviewed: keep reviewed posts in the ranking.
        preferred_version: the champion's version; ranked when it has scored posts.

    Returns:
        (model version, ranked rows, candidates matching the filters, of them reviewed).
    """
    if not lake.table_exists(PREDICTIONS):
        return None, pd.DataFrame(), 0, 0
    version = serving_version(lake, preferred_version)
    if version is None:
        return None, pd.DataFrame(), 0, 0
    columns = _columns(lake, PREDICTIONS)
    has_members = "member_probabilities" in columns
    has_posts = lake.table_exists(POSTS)
    if not has_posts and (where.job or where.since or where.until):
        return version, pd.DataFrame(), 0, 0
    post_columns = _columns(lake, POSTS) if has_posts else set()
    label_columns = _columns(lake, LABELS_TABLE) if lake.table_exists(LABELS_TABLE) else set()
    has_given = {"board_id", "post_id", "label"} <= label_columns
    has_flag = has_given and "injection_suspected" in label_columns
    quality_columns = _columns(lake, QUALITY) if lake.table_exists(QUALITY) else set()
    has_quality = {"label_error_score", "needs_review", "round"} <= quality_columns

    params: list[Any] = [version]
    filters = ["p.model_version = ?", "p.label is not null"]
    if where.board_id is not None:
        filters.append("p.board_id = ?")
        params.append(where.board_id)
    if where.job:
        filters.append("r.job = ?")
        params.append(where.job)
    # Compared as microsecond timestamps: a nanosecond column cannot hold dates before 1677 or
    # after 2262, which a client may well send as a bound.
    if where.since:
        filters.append("cast(r.posted_at as timestamp) >= ?")
        params.append(naive_utc(where.since))
    if where.until:
        filters.append("cast(r.posted_at as timestamp) < ?")
        params.append(naive_utc(where.until))

    extra = [
        f"r.{c}" for c in ("title", "body", "board_name", "job", "posted_at") if c in post_columns
    ]
    select = ", ".join(
        [
            "p.board_id",
            "p.post_id",
            "p.label",
            "p.confidence",
            "p.disagreement",
            "p.p_neg",
            "p.p_neu",
            "p.p_pos",
            ("p.member_probabilities" if has_members else "null as member_probabilities"),
            *extra,
            ("g.given_label" if has_given else "null as given_label"),
            ("g.injection_suspected" if has_flag else "false as injection_suspected"),
            ("q.refined_label_error" if has_quality else "null as refined_label_error"),
            ("q.needs_review" if has_quality else "null as needs_review"),
        ]
    )
    joins = ""
    if has_posts:
        joins += f" left join lake.{POSTS} r on r.board_id = p.board_id and r.post_id = p.post_id"
    if has_given:
        ok = "status = 'ok'" if "status" in label_columns else "true"
        # A post is flagged when any attempt was: the flag is about its text, not one answer.
        flag = (
            ", coalesce(bool_or(injection_suspected), false) as injection_suspected"
            if has_flag
            else ""
        )
        joins += (
            f" left join (select board_id, post_id, any_value(label) filter (where {ok}) "
            f"as given_label{flag} from lake.{LABELS_TABLE} group by all) g "
            "on g.board_id = p.board_id and g.post_id = p.post_id"
        )
    if has_quality:
        # Refinement's cross-validated label-error score is better evidence than the distance
        # between the model and a single labeler; its newest round per post wins.
        joins += (
            " left join (select board_id, post_id, label_error_score as refined_label_error, "
            f"needs_review from lake.{QUALITY} qualify row_number() over "
            "(partition by board_id, post_id order by round desc) = 1) q "
            "on q.board_id = p.board_id and q.post_id = p.post_id"
        )
    lake.con.register("reviewed_posts", reviewed)
    try:
        frame = lake.con.execute(
            f"select {select}, (rv.post_id is not null) as reviewed "
            f"from lake.{PREDICTIONS} p{joins} "
            "left join reviewed_posts rv on rv.board_id = p.board_id and rv.post_id = p.post_id "
            f"where {' and '.join(filters)}",
            params,
        ).df()
    finally:
        lake.con.unregister("reviewed_posts")
    frame = frame.drop_duplicates(["board_id", "post_id"])
    total, done = len(frame), int(frame["reviewed"].sum()) if len(frame) else 0
    if frame.empty:
        return version, frame, 0, 0
    frame["injection_suspected"] = frame["injection_suspected"].fillna(False).astype(bool)
    # A suspected injection's LLM label is not evidence of anything: it is kept aside.
    frame["kept_aside_label"] = frame["given_label"].where(frame["injection_suspected"])
    frame["given_label"] = frame["given_label"].where(~frame["injection_suspected"])
    frame["member_probabilities"] = [_parse_members(v) for v in frame["member_probabilities"]]
    given_p = pd.Series(float("nan"), index=frame.index)
    for label, column in _PROB.items():
        given_p = given_p.mask(frame["given_label"] == label, frame[column])
    frame["uncertainty"] = 1.0 - frame["confidence"].astype(float)
    # "null as ..." arrives as a nullable integer column; float keeps fillna from casting.
    refined_error = pd.Series(
        pd.to_numeric(frame["refined_label_error"], errors="coerce"), index=frame.index
    ).astype("float64")
    frame["label_error"] = refined_error.fillna(1.0 - given_p).fillna(0.0)
    frame["score"] = frame["uncertainty"] + frame["disagreement"].fillna(0.0) + frame["label_error"]
    # Posts refinement could not settle go first: they are where a person adds the most.
    unsettled = pd.Series(frame["needs_review"], index=frame.index).astype("float64").fillna(0.0)
    frame["needs_review"] = unsettled > 0
    frame["score"] += frame["needs_review"].astype(float)
    if not include_reviewed:
        frame = frame.loc[~frame["reviewed"].astype(bool)]
    frame = frame.sort_values(
        ["injection_suspected", "score", "board_id", "post_id"],
        ascending=[False, False, True, True],
    )
    ranked = frame.head(where.limit).reset_index(drop=True)
    ranked["reason"] = pd.Series([_reason(row) for _, row in ranked.iterrows()], dtype="object")
    return version, ranked, total, done


def _parse_members(raw: object) -> dict[str, list[float]]:
    """`member_probabilities` as the scorer wrote it, without members that gave no answer."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return {}
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(parsed, dict):
        raise ValueError(f"member_probabilities is not a JSON object: {raw!r}")
    return {
        str(name): [float(x) for x in probs]
        for name, probs in parsed.items()
        if probs is not None and len(probs) == len(LABEL_ORDER)
    }


def _reason(row: pd.Series) -> str:
    """Why a ranked row ranks where it does, in words a reviewer reads."""
    if bool(row["injection_suspected"]):
        kept = row["kept_aside_label"]
        return INJECTION_REASON.format(kept=f" ({kept})" if isinstance(kept, str) else "")
    parts = [
        f"uncertainty {row['uncertainty']:.2f}",
        f"member disagreement {_number(row['disagreement']):.2f}",
        f"label error {row['label_error']:.2f}",
    ]
    if bool(row["needs_review"]):
        parts.insert(0, "refinement could not settle its label")
    return "; ".join(parts)


def _number(value: object) -> float:
    number = float(value) if isinstance(value, int | float) else float("nan")
    return 0.0 if number != number else number


def member_labels(row: pd.Series) -> dict[str, str]:
    """Each member's predicted label for a ranked row (members that answered)."""
    members = row.get("member_probabilities") or {}
    return {
        name: LABEL_ORDER[max(range(len(LABEL_ORDER)), key=lambda i: probs[i])]
        for name, probs in sorted(members.items())
    }
