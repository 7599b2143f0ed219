"""A throwaway local Postgres server (initdb + pg_ctl on a Unix socket), for catalog tests.

Tests that need one skip, saying why, where the server binaries or the DuckDB postgres
extension package are missing. Postgres refuses to run as root, so under root the server runs
as the `postgres` system user when there is one.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PORT = 54391


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _runner() -> list[str] | None:
    """The command prefix that runs the server as a non-root user (empty when not root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return [runuser, "-u", "postgres", "--"] if runuser else None


@contextmanager
def local_postgres() -> Iterator[str]:
    """Start a server in a fresh folder; yield a libpq DSN for database `lake`; stop it."""
    if importlib.util.find_spec("duckdb_extension_postgres_scanner") is None:
        pytest.skip("duckdb-extension-postgres-scanner is not installed")
    initdb, pg_ctl, createdb = _binary("initdb"), _binary("pg_ctl"), _binary("createdb")
    runner = _runner()
    if not (initdb and pg_ctl and createdb) or runner is None:
        pytest.skip("no local Postgres server binaries (initdb, pg_ctl) usable here")
    folder = Path(tempfile.mkdtemp(prefix="lake-pg-"))
    folder.chmod(0o777)  # the server user must reach its data folder and socket
    data = folder / "data"
    data.mkdir()
    if runner:
        shutil.chown(data, "postgres")
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run([*runner, initdb, "-D", str(data), "-U", "postgres", "-A", "trust"], **run)
        options = f"-p {PORT} -k {folder} -c listen_addresses=''"
        log = folder / "server.log"
        subprocess.run(
            [*runner, pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], **run
        )
        try:
            subprocess.run(
                [createdb, "-h", str(folder), "-p", str(PORT), "-U", "postgres", "lake"], **run
            )
            yield f"dbname=lake host={folder} port={PORT} user=postgres"
        finally:
            subprocess.run(
                [*runner, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
