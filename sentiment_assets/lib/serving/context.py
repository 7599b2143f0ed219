"""What every route of one API process shares: the store, the champion, the lake reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from fastapi import HTTPException, status

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.errors import LakehouseError
from sentiment_assets.lib.serving import review_queue
from sentiment_assets.lib.serving.champion import ChampionHolder
from sentiment_assets.lib.serving.lake_reader import LakeReader, QueueCache
from sentiment_assets.lib.serving.settings import ServingSettings


@dataclass(frozen=True)
class ServingContext:
    """The long-lived parts of one API process, built once by `create_app`."""

    settings: ServingSettings
    store: FeedbackStore
    champion: ChampionHolder
    lakehouse: Lakehouse
    reader: LakeReader
    cache: QueueCache

    def current_model(self) -> Any:
        """The champion being served.

        Raises:
            HTTPException: 503 while no model is loaded, with the reason.
        """
        model = self.champion.current()
        if model is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"no model is loaded: {self.champion.error or 'none trained yet'}",
            )
        return model

    def serving_version(self) -> str | None:
        """The champion's version, None while none is loaded."""
        # current(), not .model: it notices a promotion, so the queue follows the new champion.
        return getattr(self.champion.current(), "version", None)

    def shown_prediction(self, board_id: int, post_id: int) -> review_queue.PostPrediction | None:
        """The prediction a reviewer sees for a post (the champion's, else the newest).

        Raises:
            HTTPException: 503 when the lake cannot be read now; the client retries the write
                under the same idempotency key, so nothing is lost or stored twice.
        """
        if not self.lakehouse.exists():
            return None
        preferred = self.serving_version()
        try:
            return self.reader.run(
                lambda lake: review_queue.shown_prediction(
                    lake, board_id, post_id, preferred_version=preferred
                )
            )
        except (duckdb.Error, LakehouseError, OSError) as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"the post's prediction could not be read from the lakehouse ({exc}); "
                "nothing was stored: retry with the same idempotency_key",
            ) from exc
