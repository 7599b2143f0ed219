"""Real PostgreSQL and S3 (moto) servers for the scale-out tests, started once per session.

A session that cannot start them fails under CI (the `CI` variable is set, as CI sets it) and
skips here with the reason otherwise, so a laptop without Debian's `postgresql` can still run
the rest of the suite. `make test` installs the package first (`make postgres`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from sentiment_assets.lib.scaleout.servers import (
    LocalServers,
    ServerUnavailable,
    engine_env,
    local_servers,
)


def servers_required() -> bool:
    """CI must run these tests: there a server that cannot start is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(exc: ServerUnavailable) -> NoReturn:
    """Fail under CI, skip elsewhere, saying why the servers could not start."""
    reason = f"the scale-out servers could not start: {exc}"
    if servers_required():
        pytest.fail(reason)
    pytest.skip(reason + " (CI fails here instead of skipping)")


@pytest.fixture(scope="session")
def servers() -> Iterator[LocalServers]:
    """PostgreSQL and moto's S3 server on 127.0.0.1, stopped when the session ends."""
    started = None
    try:
        started = local_servers()
        running = started.__enter__()
    except ServerUnavailable as exc:
        unavailable(exc)
    try:
        yield running
    finally:
        started.__exit__(None, None, None)


@dataclass(frozen=True)
class ScaleOut:
    """One test's own slice of the servers: a catalog schema, S3 prefixes, an env to apply."""

    servers: LocalServers
    name: str
    env: dict[str, str]

    @property
    def data_prefix(self) -> str:
        """The key prefix of this test's lakehouse data files in the bucket."""
        return f"{self.name}/lake/"

    def keys(self, prefix: str) -> list[str]:
        """Object keys in the bucket under `prefix`."""
        listing = self.servers.s3.client().list_objects_v2(
            Bucket=self.servers.bucket, Prefix=prefix
        )
        return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture
def scaleout(servers: LocalServers, monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> ScaleOut:
    """This test's lakehouse, MLflow and Dagster instance on the servers, set in the env."""
    name = "t" + uuid.uuid4().hex[:10]
    env = engine_env(servers, name)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return ScaleOut(servers=servers, name=name, env=env)
