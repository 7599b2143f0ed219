"""Before anything is registered, the newest saved ensemble serves; with nothing, a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_assets.lib.corpus.load import labeled
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import ModelLoadError, TrainSettings
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.pipeline import build_ensemble, train_member
from sentiment_assets.lib.registry import ModelRegistry, champion_path, load_champion
from sentiment_assets.lib.registry.store import tracking_uri_for
from sentiment_assets.rehearsal.champion import fitting_rows
from sentiment_assets_tests.registry.helpers import seed_base_corpus


def test_unregistered_checkout_serves_its_newest_ensemble(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    with pytest.raises(ModelLoadError, match="holds no trained ensemble"):
        champion_path(models)
    assert not (models / "mlflow.db").exists()  # reading never creates a registry

    frame = fitting_rows(seed_base_corpus(lakehouse, tmp_path))
    train, dev = labeled(frame, "train"), labeled(frame, "dev")
    uri = tracking_uri_for(models)
    member = train_member(
        available_members(["lexicon"])["lexicon"],
        train,
        dev,
        TrainSettings(),
        models_root=models,
        tracking_uri=uri,
        snapshot_id=None,
    )
    saved = [
        build_ensemble(
            dev,
            models_root=models,
            tracking_uri=uri,
            snapshot_id=None,
            member_dirs={"lexicon": member.path},
        )[1]
        for _ in range(2)
    ]
    assert ModelRegistry(models).versions() == []
    assert champion_path(models) == saved[-1].path
    assert load_champion(models).version == saved[-1].manifest.version
