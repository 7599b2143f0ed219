"""The `model_store` resource: where versioned model artifacts and the MLflow backend live."""

from dataclasses import replace
from pathlib import Path

import dagster as dg
from pydantic import Field

from sentiment_assets.lib.settings import PROJECT_ROOT, Paths, mlflow_tracking_uri


class ModelStoreResource(dg.ConfigurableResource):
    """The models folder: one directory per member version, plus `mlflow.db`."""

    path: str | None = Field(
        default=None,
        description="Models folder; relative paths are taken from the project root. "
        "Defaults to SENTIMENT_MODELS, else models/.",
    )

    def root(self) -> Path:
        """The models folder this resource points at."""
        if self.path is None:
            return Paths.from_env().models
        root = Path(self.path)
        return root if root.is_absolute() else PROJECT_ROOT / root

    def tracking_uri(self) -> str:
        """The local MLflow backend inside the models folder."""
        return mlflow_tracking_uri(replace(Paths.from_env(), models=self.root()))


@dg.definitions
def defs() -> dg.Definitions:
    """Bind the model store for the training and ensemble assets."""
    return dg.Definitions(resources={"model_store": ModelStoreResource()})
