"""What the serving API is configured with: the token, the folders, the limits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sentiment_assets.lib.feedback.store import default_path
from sentiment_assets.lib.settings import Paths

TOKEN_ENV = "SENTIMENT_API_TOKEN"


@dataclass(frozen=True)
class ServingSettings:
    """Configuration of one API process.

    Attributes:
        api_token: the bearer token write endpoints require.
        warehouse: the lakehouse folder the review queue reads.
        models: the models folder the champion is loaded from.
        feedback_db: the feedback store's SQLite file.
        max_body_bytes: requests with a larger body get 413, declared or streamed.
        model_check_interval_s: how often (at most) a request stats the models folder for a
            new champion.
        review_cache_s: how long a review-queue answer is reused before the lake is read again.
    """

    api_token: str
    warehouse: Path
    models: Path
    feedback_db: Path
    max_body_bytes: int = 1_048_576
    model_check_interval_s: float = 1.0
    review_cache_s: float = 5.0

    @classmethod
    def from_env(cls) -> ServingSettings:
        """Folders from `Paths.from_env()`, the token from SENTIMENT_API_TOKEN.

        Raises:
            ValueError: the token is unset; the API refuses to serve writes without one.
        """
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise ValueError(
                f"set {TOKEN_ENV} to the bearer token clients must send to write endpoints"
            )
        paths = Paths.from_env()
        return cls(
            api_token=token,
            warehouse=paths.warehouse,
            models=paths.models,
            feedback_db=default_path(paths.warehouse),
        )
