"""The MLflow model registry of ensemble versions: registration, aliases, history, rollback.

One registered model (`REGISTERED_MODEL`) holds every trained ensemble as a numbered model
version. A version's tags say where its artifacts are (`version_dir`, relative to the models
folder), which lakehouse snapshot its training data came from, its metrics, and what the
promotion gate decided. Two aliases name what serves: `champion` and `challenger`.

Consistency under crashes: the artifacts are written (atomically, by `save_version`) before
the version is registered, and the champion alias moves last, in a single MLflow call. A run
killed at any point therefore leaves either an unregistered directory (ignored), or a
registered version without an alias (a challenger nobody serves), never a champion pointing at
a half-written directory. Every alias change also rewrites `ensemble/.champion.json`
atomically: the file changes the ensemble folder's modification time, which is what the serving
API watches to hot-swap its model, and tells a person at a glance what serves.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentiment_assets.lib.models.ensemble import NAME as ENSEMBLE
from sentiment_assets.lib.models.tracking import locked
from sentiment_assets.lib.scaleout.mlflow_backend import configure_s3_client, tracking_uri

REGISTERED_MODEL = "maple-sentiment-ensemble"
CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"
"""Registered-model tag: JSON list of the version numbers that were champion, oldest first."""
POINTER_FILE = ".champion.json"
TRACKING_DB = "mlflow.db"


class RegistryError(RuntimeError):
    """A registry request cannot be met (unknown version, nothing to roll back to, ...)."""


def tracking_uri_for(models_root: Path) -> str:
    """The MLflow backend of `models_root`: the same one `settings.mlflow_tracking_uri` names."""
    configure_s3_client()
    return tracking_uri(models_root)


@dataclass(frozen=True)
class RegisteredVersion:
    """One registered ensemble version."""

    number: int
    version: str
    """The version directory's name under `models/ensemble/`."""
    path: Path
    tags: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """`v3 (ensemble/20261129T...)`, for messages."""
        return f"v{self.number} ({ENSEMBLE}/{self.version})"


@dataclass(frozen=True)
class AliasChange:
    """What a promotion or rollback did to the champion alias."""

    previous: RegisteredVersion | None
    current: RegisteredVersion


class ModelRegistry:
    """The registered ensemble model of one models folder."""

    def __init__(
        self,
        models_root: Path,
        *,
        tracking_uri: str | None = None,
        name: str = REGISTERED_MODEL,
    ):
        """Address the registry whose backend lives in `models_root` (or at `tracking_uri`)."""
        self.models_root = Path(models_root)
        self.tracking_uri = tracking_uri or tracking_uri_for(self.models_root)
        self.name = name

    # -- reading -------------------------------------------------------------------------------

    def _backend_exists(self) -> bool:
        # Opening a missing SQLite backend would create it (and run MLflow's migrations): a
        # plain reader must not leave an empty registry behind.
        prefix = "sqlite:///"
        if self.tracking_uri.startswith(prefix):
            return Path(self.tracking_uri.removeprefix(prefix)).is_file()
        return True

    def _client(self) -> Any:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _registered(self, client: Any) -> Any | None:
        from mlflow.exceptions import MlflowException

        try:
            return client.get_registered_model(self.name)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def _as_version(self, found: Any) -> RegisteredVersion:
        tags = dict(found.tags or {})
        version = tags.get("model_version", "")
        return RegisteredVersion(
            number=int(found.version),
            version=version,
            path=self.models_root / ENSEMBLE / version,
            tags=tags,
        )

    def versions(self) -> list[RegisteredVersion]:
        """Every registered version, oldest first; empty when nothing was ever registered."""
        if not self._backend_exists():
            return []
        client = self._client()
        if self._registered(client) is None:
            return []
        found = client.search_model_versions(f"name='{self.name}'")
        return sorted((self._as_version(v) for v in found), key=lambda v: v.number)

    def get(self, number: int) -> RegisteredVersion:
        """Version `number`; RegistryError when it is not registered."""
        for version in self.versions():
            if version.number == number:
                return version
        raise RegistryError(f"{self.name} has no version {number}")

    def aliases(self) -> dict[str, int]:
        """Alias → version number."""
        if not self._backend_exists():
            return {}
        registered = self._registered(self._client())
        if registered is None:
            return {}
        return {alias: int(number) for alias, number in (registered.aliases or {}).items()}

    def alias(self, alias: str) -> RegisteredVersion | None:
        """The version `alias` points at, None when the alias is not set."""
        number = self.aliases().get(alias)
        return None if number is None else self.get(number)

    def history(self) -> list[int]:
        """Champion version numbers, oldest first (what rollback walks back through)."""
        if not self._backend_exists():
            return []
        registered = self._registered(self._client())
        if registered is None:
            return []
        return _reconciled(registered)

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        # The same lock as MLflow run logging: one writer at a time per models folder, so two
        # promotions cannot interleave their alias and history updates.
        with locked(self.models_root):
            client = self._client()
            if self._registered(client) is None:
                client.create_registered_model(
                    self.name,
                    description="Every trained maple-sentiment ensemble; aliases champion and "
                    "challenger name what serves and what waits.",
                )
            yield client

    def register(
        self,
        version: str,
        *,
        run_id: str | None,
        tags: Mapping[str, object],
    ) -> RegisteredVersion:
        """Register the saved ensemble `models/ensemble/<version>` as a new model version.

        Raises:
            RegistryError: the directory does not exist (register only finished saves).
        """
        path = self.models_root / ENSEMBLE / version
        if not path.is_dir():
            raise RegistryError(f"{path} does not exist: save the ensemble before registering it")
        record = {
            "model_version": version,
            "version_dir": f"{ENSEMBLE}/{version}",
            **{k: str(v) for k, v in tags.items()},
        }
        with self._writing() as client:
            found = client.create_model_version(
                self.name, source=path.resolve().as_uri(), run_id=run_id, tags=record
            )
        return RegisteredVersion(int(found.version), version, path, record)

    def set_tags(self, number: int, tags: Mapping[str, object]) -> None:
        """Add or overwrite tags of version `number`."""
        with self._writing() as client:
            for key, value in tags.items():
                client.set_model_version_tag(self.name, str(number), key, str(value))

    def promote(self, number: int, *, reason: str) -> AliasChange:
        """Make version `number` the champion; the old champion stays registered."""
        return self._move_champion(number, reason=reason, rollback=False)

    def keep_as_challenger(self, number: int, *, reason: str) -> None:
        """Point `challenger` at version `number` and record why it did not become champion."""
        with self._writing() as client:
            client.set_registered_model_alias(self.name, CHALLENGER, str(number))
            client.set_model_version_tag(self.name, str(number), "gate.status", CHALLENGER)
            client.set_model_version_tag(self.name, str(number), "gate.reason", reason)

    def rollback(self, to: int | None = None) -> AliasChange:
        """Re-point `champion`: to version `to`, or (default) to the previous champion.

        The default walks the champion history back one step, so rolling back twice goes two
        champions back rather than toggling between the last two.

        Raises:
            RegistryError: nothing is registered, there is no earlier champion, `to` is unknown
                or its artifacts are gone.
        """
        history = self.history()
        if not history:
            raise RegistryError(f"{self.name} has no champion yet: nothing to roll back")
        if to is None:
            if len(history) < 2:
                raise RegistryError(
                    f"v{history[-1]} is the only champion {self.name} ever had: "
                    "nothing earlier to roll back to (give --to VERSION)"
                )
            to = history[-2]
        return self._move_champion(to, reason=f"rolled back from v{history[-1]}", rollback=True)

    def _move_champion(self, number: int, *, reason: str, rollback: bool) -> AliasChange:
        target = self.get(number)
        if not target.path.is_dir():
            raise RegistryError(
                f"{target.path} (registry version {number}) does not exist: cannot serve it"
            )
        with self._writing() as client:
            registered = self._registered(client)
            aliases = dict(registered.aliases or {}) if registered else {}
            previous_number = aliases.get(CHAMPION)
            history = _reconciled(registered) if registered else []
            if rollback and len(history) >= 2 and history[-2] == number:
                history.pop()  # one step back: the rolled-back champion leaves the history
            elif not history or history[-1] != number:
                history.append(number)
            client.set_registered_model_alias(self.name, CHAMPION, str(number))
            client.set_registered_model_tag(self.name, HISTORY_TAG, json.dumps(history))
            if aliases.get(CHALLENGER) is not None and int(aliases[CHALLENGER]) == number:
                client.delete_registered_model_alias(self.name, CHALLENGER)
            status = "rolled-back-to" if rollback else CHAMPION
            client.set_model_version_tag(self.name, str(number), "gate.status", status)
            client.set_model_version_tag(self.name, str(number), "gate.reason", reason)
            if previous_number is not None and int(previous_number) != number:
                client.set_model_version_tag(
                    self.name, str(previous_number), "gate.status", "retired"
                )
            write_pointer(self.models_root, target)
        previous = None if previous_number is None else self.get(int(previous_number))
        return AliasChange(previous=previous, current=self.get(number))


def _reconciled(registered: Any) -> list[int]:
    """The champion history, ending with the alias's version.

    The alias and the history tag are two MLflow calls; a process killed between them leaves
    the history one step behind the alias. The alias is the truth, so it is appended here.
    """
    history = [int(n) for n in json.loads((registered.tags or {}).get(HISTORY_TAG, "[]"))]
    current = (registered.aliases or {}).get(CHAMPION)
    if current is not None and (not history or history[-1] != int(current)):
        history.append(int(current))
    return history


def write_pointer(models_root: Path, champion: RegisteredVersion) -> Path:
    """Atomically (re)write `ensemble/.champion.json` naming the champion."""
    folder = models_root / ENSEMBLE
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "registered_model": REGISTERED_MODEL,
        "registry_version": champion.number,
        "version": champion.version,
        "version_dir": f"{ENSEMBLE}/{champion.version}",
    }
    handle, tmp = tempfile.mkstemp(prefix=".champion.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(json.dumps(payload, indent=2))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / POINTER_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / POINTER_FILE
