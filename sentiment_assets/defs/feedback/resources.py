"""The `feedback_store` resource: where human corrections wait before they reach the lake."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
from sentiment_assets.lib.settings import PROJECT_ROOT, Paths


class FeedbackStoreResource(dg.ConfigurableResource):
    """The SQLite feedback store the API writes to (the review app writes through the API)."""

    path: str | None = Field(
        default=None,
        description="SQLite file; relative paths are taken from the project root. Defaults to "
        "feedback.sqlite in the warehouse folder (SENTIMENT_WAREHOUSE, else warehouse/).",
    )
    retrain_threshold: int = Field(
        default=100,
        ge=1,
        description="Unconsumed corrections that make `feedback_sensor` launch retraining.",
    )

    def file(self) -> Path:
        """The store's SQLite file."""
        if self.path is None:
            return default_path(Paths.from_env().warehouse)
        path = Path(self.path)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def get(self) -> FeedbackStore:
        """Open the store, creating it if needed."""
        return FeedbackStore(self.file())


@dg.definitions
def defs() -> dg.Definitions:
    """Bind the feedback store for the `feedback` asset and `feedback_sensor`."""
    return dg.Definitions(resources={"feedback_store": FeedbackStoreResource()})
