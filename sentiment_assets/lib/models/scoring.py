"""Score lakehouse posts with the ensemble: which posts are pending, and the rows to write.

One row per post per model version (`PREDICTION_KEY`). Member probabilities are stored as a JSON
object (`{"lexicon": [p_neg, p_neu, p_pos], ...}`) so the table's schema does not change when
members are added or removed; the ensemble's own probabilities have columns of their own.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.text.normalize import post_text, text_hash

POSTS_TABLE = "raw_posts"
PREDICTIONS_TABLE = "ensemble_predictions"
PREDICTION_KEY = ("board_id", "post_id", "model_version")


def _unscored(lake: LakeSession, model_version: str) -> tuple[str, list[object]]:
    if not lake.table_exists(PREDICTIONS_TABLE):
        return "", []
    return (
        f"where not exists (select 1 from lake.{PREDICTIONS_TABLE} e "
        "where e.board_id = p.board_id and e.post_id = p.post_id and e.model_version = ?)",
        [model_version],
    )


def pending_posts(lake: LakeSession, model_version: str, limit: int) -> pd.DataFrame:
    """Up to `limit` posts (board_id, post_id, title, body) not yet scored by `model_version`."""
    where, params = _unscored(lake, model_version)
    return lake.query(
        f"select p.board_id, p.post_id, p.title, p.body from lake.{POSTS_TABLE} p {where} "
        "order by p.board_id, p.post_id limit ?",
        [*params, int(limit)],
    )


def count_pending(lake: LakeSession, model_version: str) -> int:
    """How many posts `model_version` has not scored yet."""
    where, params = _unscored(lake, model_version)
    counted = lake.query(f"select count(*) as n from lake.{POSTS_TABLE} p {where}", params)
    return int(counted["n"].iloc[0])


def prediction_rows(ensemble: Ensemble, posts: pd.DataFrame) -> pd.DataFrame:
    """The `ensemble_predictions` rows for `posts` (title + body joined, head kept)."""
    texts = [
        post_text(title, body) for title, body in zip(posts["title"], posts["body"], strict=True)
    ]
    prediction = ensemble.predict(texts)
    out = prediction.frame()
    members = [
        json.dumps(
            {
                name: None if np.isnan(proba[i]).any() else [round(float(x), 6) for x in proba[i]]
                for name, proba in prediction.members.items()
            }
        )
        for i in range(len(texts))
    ]
    return pd.DataFrame(
        {
            "board_id": posts["board_id"].to_numpy(),
            "post_id": posts["post_id"].to_numpy(),
            "model_version": ensemble.version,
            "text_hash": [text_hash(t) for t in texts],
            "p_neg": out["p_neg"],
            "p_neu": out["p_neu"],
            "p_pos": out["p_pos"],
            "label": out["label"],
            "confidence": out["confidence"],
            "disagreement": out["disagreement"],
            "member_probabilities": members,
            "status": out["status"],
            "scored_at": pd.Timestamp.now(tz="UTC"),
        }
    )
