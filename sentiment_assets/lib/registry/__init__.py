"""The model registry: registered ensemble versions, the promotion gate, champion and rollback.

`champion_path` / `load_champion` are what every reader of "the serving model" calls.
"""

from sentiment_assets.lib.registry.champion import champion_path, champion_version, load_champion
from sentiment_assets.lib.registry.store import (
    CHALLENGER,
    CHAMPION,
    REGISTERED_MODEL,
    ModelRegistry,
    RegisteredVersion,
    RegistryError,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "REGISTERED_MODEL",
    "ModelRegistry",
    "RegisteredVersion",
    "RegistryError",
    "champion_path",
    "champion_version",
    "load_champion",
]
