"""Which model version the marts show: the serving champion, once it has scored every post.

The marts show one model's view, never a mix: each post's prediction by the version recorded
last in the lake table `serving_models` (read by dbt's `int_serving_model`). A version is
recorded only after it has scored every crawled post, so the marts switch from one champion to
the next in a single refresh, whole. Whoever makes a version serve scores for it first:
`champion_predictions` after a promotion (and `ensemble_predictions` for new posts),
`sentiment rollback` after a rollback. A refresh of the marts alone (`marts_job`) scores what
the champion still lacks too, so an alias moved by other means is caught up there.

`serving_models` — one row per time the marts' model changed:

| column | meaning |
|---|---|
| model_version | the ensemble version directory name (`ensemble_predictions.model_version`) |
| registry_version | its MLflow registry version number (NULL for an unregistered save) |
| reason | why it serves now (promotion, rollback, first scores, ...) |
| posts_scored | posts it had scored (status ok or empty) when recorded |
| recorded_at | naive UTC |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.base import Manifest
from sentiment_assets.lib.models.ensemble import ENSEMBLE_FILE, Ensemble
from sentiment_assets.lib.models.scoring import (
    POSTS_TABLE,
    PREDICTION_KEY,
    PREDICTIONS_TABLE,
    count_pending,
    pending_posts,
    prediction_rows,
)
from sentiment_assets.lib.registry.champion import champion_path, champion_version

SERVING_TABLE = "serving_models"
SERVING_DDL = f"""
create table if not exists lake.{SERVING_TABLE} (
    model_version varchar,
    registry_version integer,
    reason varchar,
    posts_scored bigint,
    recorded_at timestamp
)
"""


@dataclass
class ServingChampion:
    """The serving ensemble: its version, registry number (None: unregistered), loaded lazily.

    Loading an ensemble imports its members' frameworks and warms Kiwi (seconds); a pass that
    finds every post scored already never needs it.
    """

    path: Path
    models_root: Path
    version: str
    registry_version: int | None
    _loaded: Ensemble | None = field(default=None, repr=False)

    @property
    def ensemble(self) -> Ensemble:
        """The ensemble, loaded on first use.

        Raises:
            ModelLoadError: its artifacts are missing or corrupt.
        """
        if self._loaded is None:
            self._loaded = Ensemble.load(self.path, models_root=self.models_root)
        return self._loaded

    def weights(self) -> dict[str, float]:
        """Member weights as `ensemble.json` records them (without loading the members)."""
        try:
            spec = json.loads((self.path / ENSEMBLE_FILE).read_text())
            return {n: round(float(ref["weight"]), 4) for n, ref in spec["members"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            return {}


@dataclass(frozen=True)
class ScoringReport:
    """What one scoring pass did."""

    model_version: str
    posts_scored: int
    posts_empty: int
    posts_pending: int
    snapshot_id: int | None
    recorded: bool
    """Whether this pass made `model_version` the marts' model (it was not before)."""


def load_serving(models_root: Path) -> ServingChampion:
    """The registry's champion with its version number (its members load on first use).

    Raises:
        ModelLoadError: nothing is trained or the champion's directory or manifest is missing.
    """
    registered = champion_version(models_root)
    path = champion_path(models_root)
    number = registered.number if registered is not None and registered.path == path else None
    return ServingChampion(path, models_root, Manifest.read(path).version, number)


def serving_model(lake: LakeSession) -> str | None:
    """The model version the marts show now (recorded last); None before any was recorded."""
    if not lake.table_exists(SERVING_TABLE):
        return None
    row = lake.con.execute(
        f"select model_version from lake.{SERVING_TABLE} order by recorded_at desc limit 1"
    ).fetchone()
    return None if row is None else str(row[0])


def _scored(lake: LakeSession, model_version: str) -> int:
    row = lake.con.execute(
        f"select count(*) from lake.{PREDICTIONS_TABLE} where model_version = ?", [model_version]
    ).fetchone()
    return int(row[0]) if row else 0


def record_serving(
    lake: LakeSession, model_version: str, registry_version: int | None, *, reason: str
) -> bool:
    """Record `model_version` as the marts' model unless it is already; True if recorded."""
    if serving_model(lake) == model_version:
        return False
    frame = pd.DataFrame(
        {
            "model_version": [model_version],
            "registry_version": pd.array([registry_version], dtype="Int32"),
            "reason": [reason],
            "posts_scored": [_scored(lake, model_version)],
            "recorded_at": [pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))],
        }
    )
    if not lake.table_exists(SERVING_TABLE):
        lake.transaction(lambda con: con.execute(SERVING_DDL), message=f"create {SERVING_TABLE}")
    lake.append(SERVING_TABLE, frame)
    return True


def score_for_serving(
    lake: LakeSession,
    champion: ServingChampion,
    *,
    reason: str,
    batch_size: int = 512,
    max_posts: int | None = None,
    log: Callable[[str], None] | None = None,
) -> ScoringReport:
    """Score the posts the champion has not scored, then record it as the marts' model.

    Each batch is its own commit, so a pass that dies keeps what it scored. The version is
    recorded only once no post is left unscored: with `max_posts` cutting a pass short, the
    marts keep showing the previous model until a later pass finishes.
    """
    version = champion.version
    scored = empty = 0
    snapshot_id = None
    if not lake.table_exists(POSTS_TABLE):
        return ScoringReport(version, 0, 0, 0, None, False)
    while max_posts is None or scored < max_posts:
        limit = batch_size if max_posts is None else min(batch_size, max_posts - scored)
        posts = pending_posts(lake, version, limit)
        if posts.empty:
            break
        rows = prediction_rows(champion.ensemble, posts)
        result = lake.append(PREDICTIONS_TABLE, rows, key=PREDICTION_KEY)
        snapshot_id = result.snapshot_id or snapshot_id
        scored += len(rows)
        empty += int((rows["status"] == "empty").sum())
        if log is not None:
            log(f"scored {len(rows)} posts with {version} ({scored} so far)")
    remaining = count_pending(lake, version)
    recorded = False
    if remaining == 0 and lake.table_exists(PREDICTIONS_TABLE):
        recorded = record_serving(lake, version, champion.registry_version, reason=reason)
        if recorded:
            snapshot_id = lake.current_snapshot_id()
    return ScoringReport(version, scored, empty, remaining, snapshot_id, recorded)
