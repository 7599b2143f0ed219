"""What the serving API is configured with: the folders, the limits, the old shared token."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sentiment_assets.lib.feedback.store import default_path
from sentiment_assets.lib.settings import Paths

TOKEN_ENV = "SENTIMENT_API_TOKEN"
"""The single shared write token of older deployments; reviewers now have their own."""


@dataclass(frozen=True)
class ServingSettings:
    """Configuration of one API process.

    Attributes:
        warehouse: the lakehouse folder the review queue reads.
        models: the models folder the champion is loaded from.
        feedback_db: the feedback store's SQLite file, reviewers' token digests included.
        shared_token: SENTIMENT_API_TOKEN where an older deployment still sets it. It
            authorises nothing: the API recognises it only to tell its senders to use a
            reviewer token (README: People in the loop).
        max_body_bytes: requests with a larger body get 413, declared or streamed.
        model_check_interval_s: how often (at most) a request stats the models folder for a
            new champion.
        review_cache_s: how long a review-queue answer is reused before the lake is read again.
    """

    warehouse: Path
    models: Path
    feedback_db: Path
    shared_token: str | None = None
    max_body_bytes: int = 1_048_576
    model_check_interval_s: float = 1.0
    review_cache_s: float = 5.0

    @classmethod
    def from_env(cls) -> ServingSettings:
        """Folders from `Paths.from_env()`, the old shared token from SENTIMENT_API_TOKEN."""
        paths = Paths.from_env()
        return cls(
            warehouse=paths.warehouse,
            models=paths.models,
            feedback_db=default_path(paths.warehouse),
            shared_token=os.environ.get(TOKEN_ENV, "").strip() or None,
        )
