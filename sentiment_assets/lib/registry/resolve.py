"""Turn a user's `--model-version` into a loaded ensemble: directory name, number, or champion."""

from __future__ import annotations

from pathlib import Path

from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.models.ensemble import NAME as ENSEMBLE
from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.registry.champion import load_champion
from sentiment_assets.lib.registry.store import ModelRegistry, RegistryError

__all__ = ["RegistryError", "resolve_ensemble"]


def resolve_ensemble(models_root: Path, requested: str | None) -> Ensemble:
    """Load the ensemble a user asked for.

    Empty `requested`: the champion. Digits ("3" or "v3"): that registry version. Anything
    else: the version directory `models/ensemble/<requested>`.

    Raises:
        ModelLoadError: the artifacts are missing or corrupt (the message names the file).
        RegistryError: a registry version number that is not registered.
    """
    if not requested:
        return load_champion(models_root)
    number = requested.removeprefix("v")
    if number.isdigit():
        directory = ModelRegistry(models_root).get(int(number)).path
    else:
        directory = models_root / ENSEMBLE / requested
    if not directory.is_dir():
        raise ModelLoadError(f"{directory} does not exist (requested version {requested!r})")
    return Ensemble.load(directory, models_root=models_root)
