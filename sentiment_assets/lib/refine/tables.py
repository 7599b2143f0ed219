"""The refinement tables in the lakehouse and how to read the current labels.

`refined_labels` — one row per post per label version, append-only (old versions are never
rewritten, so the history of every label stays in the lake and in its snapshots):

| column | type | meaning |
|---|---|---|
| board_id | INTEGER | the post's board |
| post_id | BIGINT | the post |
| label_version | INTEGER | 1, 2, ... per post; the highest is the current label |
| label | VARCHAR | 부정 / 중립 / 긍정 (never anything else) |
| previous_label | VARCHAR | the label of version `label_version - 1`; NULL for version 1 |
| source | VARCHAR | llm, weak, human, ensemble-corrected, llm-relabel |
| confidence | DOUBLE | in `label`: the LLM's, the calibrated ensemble's, 1.0 for a human |
| labeler | VARCHAR | `<provider>:<model>`, `human:<reviewer>`, `ensemble:<version>` |
| reason | VARCHAR | why this version exists, in words |
| round | INTEGER | the refinement round that wrote it (see `refinement_rounds`) |
| text | VARCHAR | the post text as used for training (`lib.text.post_text(title, body)`) |
| text_hash | VARCHAR | `lib.text.text_hash(text)` |
| feedback_id | BIGINT | the `feedback` row behind a human label; NULL otherwise |
| ensemble_model_version | VARCHAR | the ensemble version the round read (NULL if none) |
| source_snapshot_id | BIGINT | the lakehouse snapshot the round read its inputs at |
| refinement_run_id | VARCHAR | the Dagster run (or caller-given id) that wrote it |
| refined_at | TIMESTAMP | naive UTC |

`is_current` is not stored (an append-only table cannot keep it true for old rows); read it
from `label_history(lake)` or take only current rows with `current_labels(lake)`, which return
the columns above (`current_labels` without `is_current`, `label_history` with it).

`label_quality` — one row per post per round: what the round thought of the post's label
(board_id, post_id, round, given_label, ensemble_label, ensemble_confidence, oos_label,
oos_confidence, label_error_score in [0, 1] (1 - the out-of-sample probability of the given
label; high = likely wrong), is_label_issue (cleanlab's verdict), decision, needs_review,
threshold, refined_at). The review queue can rank by the newest round's `label_error_score`.

`refinement_rounds` — one row per round: round, threshold, metrics, the convergence decision
(see `lib.refine.convergence`), model version, snapshot, MLflow run id, refined_at.
"""

from __future__ import annotations

import pandas as pd

from sentiment_assets.lib.lakehouse.lake import LakeSession

REFINED_LABELS = "refined_labels"
LABEL_QUALITY = "label_quality"
REFINEMENT_ROUNDS = "refinement_rounds"

SOURCES: tuple[str, ...] = ("llm", "weak", "human", "ensemble-corrected", "llm-relabel")


def _ddl(table: str, schema: tuple[tuple[str, str], ...]) -> str:
    columns = ",\n".join(f"    {name} {kind}" for name, kind in schema)
    return f"create table if not exists lake.{table} (\n{columns}\n)"


REFINED_SCHEMA: tuple[tuple[str, str], ...] = (
    ("board_id", "integer"),
    ("post_id", "bigint"),
    ("label_version", "integer"),
    ("label", "varchar"),
    ("previous_label", "varchar"),
    ("source", "varchar"),
    ("confidence", "double"),
    ("labeler", "varchar"),
    ("reason", "varchar"),
    ("round", "integer"),
    ("text", "varchar"),
    ("text_hash", "varchar"),
    ("feedback_id", "bigint"),
    ("ensemble_model_version", "varchar"),
    ("source_snapshot_id", "bigint"),
    ("refinement_run_id", "varchar"),
    ("refined_at", "timestamp"),
)
REFINED_LABELS_DDL = _ddl(REFINED_LABELS, REFINED_SCHEMA)
REFINED_COLUMNS: tuple[str, ...] = tuple(name for name, _ in REFINED_SCHEMA)
REFINED_KEY = ("board_id", "post_id", "label_version")

LABEL_QUALITY_SCHEMA: tuple[tuple[str, str], ...] = (
    ("board_id", "integer"),
    ("post_id", "bigint"),
    ("round", "integer"),
    ("given_label", "varchar"),
    ("ensemble_label", "varchar"),
    ("ensemble_confidence", "double"),
    ("oos_label", "varchar"),
    ("oos_confidence", "double"),
    ("label_error_score", "double"),
    ("is_label_issue", "boolean"),
    ("decision", "varchar"),
    ("needs_review", "boolean"),
    ("threshold", "double"),
    ("refined_at", "timestamp"),
)
LABEL_QUALITY_DDL = _ddl(LABEL_QUALITY, LABEL_QUALITY_SCHEMA)
LABEL_QUALITY_COLUMNS: tuple[str, ...] = tuple(name for name, _ in LABEL_QUALITY_SCHEMA)
LABEL_QUALITY_KEY = ("board_id", "post_id", "round")

REFINEMENT_ROUNDS_SCHEMA: tuple[tuple[str, str], ...] = (
    ("round", "integer"),
    ("threshold", "double"),
    ("next_threshold", "double"),
    ("posts", "integer"),
    ("posts_existing", "integer"),
    ("labels_changed", "integer"),
    ("label_change_rate", "double"),
    ("corrected", "integer"),
    ("relabeled", "integer"),
    ("human", "integer"),
    ("needs_review", "integer"),
    ("label_issues", "integer"),
    ("score", "double"),
    ("score_name", "varchar"),
    ("member_variance", "double"),
    ("improvement", "double"),
    ("converged", "boolean"),
    ("stop_reason", "varchar"),
    ("ensemble_model_version", "varchar"),
    ("source_snapshot_id", "bigint"),
    ("mlflow_run_id", "varchar"),
    ("refinement_run_id", "varchar"),
    ("refined_at", "timestamp"),
)
REFINEMENT_ROUNDS_DDL = _ddl(REFINEMENT_ROUNDS, REFINEMENT_ROUNDS_SCHEMA)

_HISTORY_SQL = f"""
select *, label_version = max(label_version) over (partition by board_id, post_id)
    as is_current
from lake.{REFINED_LABELS}{{at}}
"""


def _at(snapshot_id: int | None) -> str:
    return f" at (version => {int(snapshot_id)})" if snapshot_id is not None else ""


def label_history(lake: LakeSession, *, snapshot_id: int | None = None) -> pd.DataFrame:
    """Every label version (REFINED_COLUMNS plus `is_current`), oldest version first per post.

    Args:
        lake: an open lake session.
        snapshot_id: read the table as it was at this lakehouse snapshot (None: now).
    """
    columns = [*REFINED_COLUMNS, "is_current"]
    if not lake.table_exists(REFINED_LABELS):
        return pd.DataFrame(columns=pd.Index(columns))
    frame = lake.query(
        f"select * from ({_HISTORY_SQL.format(at=_at(snapshot_id))}) "
        "order by board_id, post_id, label_version"
    )
    return frame.loc[:, columns]


def current_labels(lake: LakeSession, *, snapshot_id: int | None = None) -> pd.DataFrame:
    """The current label of every refined post: one row per post, REFINED_COLUMNS.

    This is what training reads. Pass the `snapshot_id` recorded with a model to see exactly
    the labels it was trained on.
    """
    if not lake.table_exists(REFINED_LABELS):
        return pd.DataFrame(columns=pd.Index(REFINED_COLUMNS))
    frame = lake.query(
        f"select * from lake.{REFINED_LABELS}{_at(snapshot_id)} "
        "qualify label_version = max(label_version) over (partition by board_id, post_id) "
        "order by board_id, post_id"
    )
    return frame.loc[:, list(REFINED_COLUMNS)]


def ensure_tables(lake: LakeSession) -> None:
    """Create the three refinement tables if they do not exist yet."""
    for table, ddl in (
        (REFINED_LABELS, REFINED_LABELS_DDL),
        (LABEL_QUALITY, LABEL_QUALITY_DDL),
        (REFINEMENT_ROUNDS, REFINEMENT_ROUNDS_DDL),
    ):
        if not lake.table_exists(table):
            lake.transaction(lambda con, ddl=ddl: con.execute(ddl), message=f"create {table}")
