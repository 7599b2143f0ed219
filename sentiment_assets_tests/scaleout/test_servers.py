"""The local servers themselves: found, started, stopped, and a clear word when they cannot be."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from sentiment_assets.lib.scaleout import servers as servers_module
from sentiment_assets.lib.scaleout.servers import ServerUnavailable, local_servers
from sentiment_assets_tests.scaleout.conftest import servers_required, unavailable


def test_servers_stop_and_leave_nothing_behind() -> None:
    try:
        started = local_servers(bucket="lifecycle")
        running = started.__enter__()
    except ServerUnavailable as exc:
        unavailable(exc)
    try:
        url = running.postgres.url()
        root = running.root
        assert running.s3.client().list_buckets()["Buckets"][0]["Name"] == "lifecycle"
        with psycopg2.connect(url) as con, con.cursor() as cur:
            cur.execute("select current_setting('listen_addresses')")
            assert cur.fetchone() == ("127.0.0.1",)
    finally:
        started.__exit__(None, None, None)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(url, connect_timeout=2)
    assert not root.exists()


def test_missing_postgresql_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(servers_module.shutil, "which", lambda _name: None)
    with pytest.raises(ServerUnavailable, match=r"install Debian's `postgresql` package"):
        servers_module.postgres_bin_dir(tmp_path / "no-postgresql-here")


@pytest.mark.parametrize(
    ("value", "required"), [("true", True), ("1", True), ("", False), ("false", False)]
)
def test_ci_turns_a_server_that_cannot_start_into_a_failure(
    monkeypatch: pytest.MonkeyPatch, value: str, required: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert servers_required() is required


def test_debian_binaries_are_found_off_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Debian installs initdb and postgres under /usr/lib/postgresql/<major>/bin, not on PATH.
    monkeypatch.setattr(servers_module.shutil, "which", lambda _name: None)
    try:
        found = servers_module.postgres_bin_dir()
    except ServerUnavailable as exc:
        unavailable(exc)
    assert (found / "initdb").is_file() and (found / "postgres").is_file()
    assert found.parent.parent == servers_module.DEBIAN_POSTGRES
