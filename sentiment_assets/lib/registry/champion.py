"""Which ensemble serves: the registry's `champion`, or the newest save when nothing is registered.

Every reader of "the model" (predict, evaluate, ensemble_predictions, the weak labeler, the
serving API) goes through `champion_path` / `load_champion`, so a promotion or a rollback
changes them all at once. The newest directory is used only while the registry is empty (a
checkout trained before the registry existed); once anything is registered, an unregistered
directory (for instance one left by a run killed before it registered) is never served.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.models.ensemble import NAME as ENSEMBLE
from sentiment_assets.lib.models.ensemble import Ensemble, ensemble_versions
from sentiment_assets.lib.registry.store import CHAMPION, ModelRegistry, RegisteredVersion

log = logging.getLogger(__name__)


def champion_version(models_root: Path) -> RegisteredVersion | None:
    """The registered champion; None when the registry is empty.

    A registry with versions but no champion alias only arises when the very first
    registration was killed before its promotion: the newest registered version stands in.
    """
    registry = ModelRegistry(models_root)
    found = registry.alias(CHAMPION)
    if found is not None:
        return found
    registered = registry.versions()
    if not registered:
        return None
    log.warning("registry has no champion alias; using the newest registered version")
    return registered[-1]


def champion_path(models_root: Path) -> Path:
    """The directory of the ensemble that serves.

    Raises:
        ModelLoadError: nothing is trained, or the champion's directory is missing (the message
            names it).
    """
    champion = champion_version(models_root)
    if champion is None:
        saved = ensemble_versions(models_root)
        if not saved:
            raise ModelLoadError(
                f"{models_root / ENSEMBLE} holds no trained ensemble; run `sentiment train` first"
            )
        return saved[-1]
    if not champion.path.is_dir():
        raise ModelLoadError(
            f"{champion.path} (champion, registry {champion.describe()}) does not exist; "
            "restore it or `sentiment rollback --to VERSION`"
        )
    return champion.path


def load_champion(models_root: Path) -> Ensemble:
    """Load the serving ensemble; ModelLoadError names the file or directory at fault."""
    return Ensemble.load(champion_path(models_root), models_root=models_root)
