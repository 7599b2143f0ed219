"""Read the round log and write a round's results to the lake in one commit.

A round's label versions, its label_quality rows and its refinement_rounds row land in a single
transaction, so one lakehouse snapshot holds all of them: a crash never leaves label versions
without the round that explains them (and a retried round starts from the same state).
"""

from __future__ import annotations

import math
import uuid

import duckdb
import pandas as pd

from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.refine.convergence import RoundMetrics
from sentiment_assets.lib.refine.round import RoundResult
from sentiment_assets.lib.refine.tables import (
    LABEL_QUALITY,
    REFINED_LABELS,
    REFINEMENT_ROUNDS,
    ensure_tables,
)


def _float(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)  # type: ignore[arg-type]


def read_rounds(lake: LakeSession) -> pd.DataFrame:
    """Every stored round, oldest first (empty before the first round)."""
    if not lake.table_exists(REFINEMENT_ROUNDS):
        return pd.DataFrame()
    return lake.query(f"select * from lake.{REFINEMENT_ROUNDS} order by round")


def history(rounds: pd.DataFrame) -> tuple[list[RoundMetrics], bool]:
    """The convergence tracker's history from stored rounds, and whether the last converged."""
    if rounds.empty:
        return [], False
    metrics = [
        RoundMetrics(
            round=int(r["round"]),
            score=_float(r["score"]),
            score_name=str(r["score_name"]),
            label_change_rate=_float(r["label_change_rate"]),
            member_variance=_float(r["member_variance"]),
        )
        for _, r in rounds.iterrows()
    ]
    return metrics, bool(rounds["converged"].iloc[-1])


def round_row(
    result: RoundResult,
    *,
    model_version: str | None,
    snapshot_id: int,
    mlflow_run_id: str | None,
    run_id: str,
    refined_at: pd.Timestamp,
) -> pd.DataFrame:
    """The refinement_rounds row of `result`."""
    c, m, d = result.counts, result.metrics, result.decision
    return pd.DataFrame(
        [
            {
                "round": result.round,
                "threshold": result.threshold,
                "next_threshold": d.next_threshold,
                "posts": c["posts"],
                "posts_existing": c["posts_existing"],
                "labels_changed": c["labels_changed"],
                "label_change_rate": m.label_change_rate,
                "corrected": c["corrected"],
                "relabeled": c["relabeled"],
                "human": c["human"],
                "needs_review": c["needs_review"],
                "label_issues": c["label_issues"],
                "score": m.score,
                "score_name": m.score_name,
                "member_variance": m.member_variance,
                "improvement": d.improvement,
                "converged": d.converged,
                "stop_reason": d.reason,
                "ensemble_model_version": model_version,
                "source_snapshot_id": snapshot_id,
                "mlflow_run_id": mlflow_run_id,
                "refinement_run_id": run_id,
                "refined_at": refined_at,
            }
        ]
    ).astype(
        {
            "label_change_rate": "float64",
            "score": "float64",
            "member_variance": "float64",
            "improvement": "float64",
        }
    )


def write_round(lake: LakeSession, result: RoundResult, rounds_row: pd.DataFrame) -> int | None:
    """Append the round's versions, quality rows and round row in one commit; its snapshot id.

    Raises:
        ValueError: the round number is already stored (another run wrote it first).
    """
    ensure_tables(lake)
    message = f"refinement round {result.round} {uuid.uuid4().hex}"
    parts = (
        (REFINED_LABELS, result.versions),
        (LABEL_QUALITY, result.quality),
        (REFINEMENT_ROUNDS, rounds_row),
    )

    # Lake writers run one at a time (the `lakehouse` pool), so checking first is enough.
    row = lake.con.execute(
        f"select count(*) from lake.{REFINEMENT_ROUNDS} where round = ?", [result.round]
    ).fetchone()
    if row and row[0]:
        raise ValueError(f"refinement round {result.round} is already stored")

    def work(con: duckdb.DuckDBPyConnection) -> None:
        for i, (table, frame) in enumerate(parts):
            if frame.empty:
                continue
            name = f"incoming_{i}"
            con.register(name, frame)
            try:
                con.execute(f"insert into lake.{table} by name select * from {name}")
            finally:
                con.unregister(name)

    lake.transaction(work, message=message)
    return lake.snapshot_for(message)
