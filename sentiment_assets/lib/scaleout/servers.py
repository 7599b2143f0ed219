"""Real PostgreSQL and S3-compatible servers on 127.0.0.1, started and stopped by us.

The tests, `make demo-distributed` and the concurrency benchmark run the scale-out engines
against real servers, never mocks: PostgreSQL from Debian's `postgresql` package (a throwaway
cluster made with `initdb` in a temporary folder, on a loopback port) and moto's S3 server.
PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` system
user (or `nobody`) and the server is started as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


class ServerUnavailable(RuntimeError):
    """A local server could not be started; the message says why and what to install."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DEBIAN_POSTGRES = Path("/usr/lib/postgresql")


def postgres_bin_dir(debian_root: Path = DEBIAN_POSTGRES) -> Path:
    """The folder holding `initdb` and `postgres` (Debian keeps them out of PATH).

    Raises:
        ServerUnavailable: no PostgreSQL server binaries are installed.
    """
    found = shutil.which("initdb")
    if found:
        real = Path(found).resolve().parent
        if (real / "postgres").is_file():
            return real
    candidates = sorted(
        debian_root.glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    raise ServerUnavailable(
        "PostgreSQL server binaries (initdb, postgres) are not installed: install Debian's "
        "`postgresql` package (`make postgres` does it, with sudo unless root)."
    )


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerUnavailable("running as root and neither a `postgres` nor a `nobody` user exists")


def _wait_until(ready, what: str, process: subprocess.Popen, log: Path | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise ServerUnavailable(f"{what} exited with status {process.returncode}: {tail}")
        try:
            ready()
            return
        except Exception as exc:
            last = exc
            time.sleep(0.2)
    raise ServerUnavailable(f"{what} did not answer within {START_TIMEOUT_S:.0f} s: {last}")


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    root: Path
    port: int
    user: str = "sentiment"
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    process: subprocess.Popen | None = None

    def url(self, database: str = "postgres") -> str:
        """`postgresql://user:password@127.0.0.1:port/database`."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` (if missing) and return its URL."""
        import psycopg2

        con = psycopg2.connect(self.url())
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{name}"')
        finally:
            con.close()
        return self.url(name)

    def start(self) -> PostgresServer:
        """Initdb (first time only) and start the server; returns once it accepts logins."""
        bin_dir = postgres_bin_dir()
        owner = _unprivileged_user()
        data = self.root / "data"
        log = self.root / "postgres.log"
        as_owner: dict = {}
        if owner is not None:
            # initdb and postgres refuse root; the folder must belong to whoever runs them.
            as_owner = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        if not (data / "PG_VERSION").exists():
            password_file = self.root / "pwfile"
            password_file.write_text(self.password + "\n")
            if owner is not None:
                os.chown(password_file, owner.pw_uid, owner.pw_gid)
            password_file.chmod(0o600)
            proc = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    self.user,
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                **as_owner,
            )
            password_file.unlink()
            if proc.returncode != 0:
                raise ServerUnavailable(f"initdb failed: {proc.stderr.strip() or proc.stdout}")
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.root}",
                    # A throwaway cluster: durability costs time and protects nothing here.
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                ],
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **as_owner,
            )

        def ready() -> None:
            import psycopg2

            psycopg2.connect(self.url(), connect_timeout=2).close()

        try:
            _wait_until(ready, "PostgreSQL", self.process, log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, disconnect clients, exit."""
        if self.process is not None:
            _stop(self.process, signal.SIGINT)
            self.process = None


@dataclass
class S3Server:
    """moto's S3-compatible server on 127.0.0.1, holding its objects in memory."""

    port: int
    access_key: str = "sentiment-local"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(16))
    region: str = "us-east-1"
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def endpoint(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        """A boto3 S3 client for this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def create_bucket(self, name: str) -> str:
        """Create bucket `name` (if missing) and return `s3://name`."""
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if name not in existing:
            client.create_bucket(Bucket=name)
        return f"s3://{name}"

    def start(self, log: Path) -> S3Server:
        """Start `moto_server`; returns once it answers S3 requests."""
        try:
            import moto.server  # noqa: F401
        except ImportError as exc:
            raise ServerUnavailable(
                f"moto's server is not installed ({exc}): `make install` installs it with the "
                "dev dependencies."
            ) from exc
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until(lambda: self.client().list_buckets(), "moto S3 server", self.process, log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the server (its objects are gone with it)."""
        if self.process is not None:
            _stop(self.process, signal.SIGTERM)
            self.process = None


@dataclass
class LocalServers:
    """Both servers, with one bucket and the folder they live in."""

    postgres: PostgresServer
    s3: S3Server
    bucket: str
    root: Path


@contextlib.contextmanager
def local_servers(bucket: str = "maple-sentiment") -> Iterator[LocalServers]:
    """Start PostgreSQL and the S3 server in a temporary folder, yield them, always stop both.

    Raises:
        ServerUnavailable: either server cannot start; the message says why.
    """
    base = Path(tempfile.mkdtemp(prefix="sentiment-servers-"))
    # Under root the server runs as another user, who must be able to reach its own folder.
    base.chmod(0o711)
    pg_root = base / "postgres"
    pg_root.mkdir(exist_ok=True)
    postgres = PostgresServer(pg_root, free_port())
    s3 = S3Server(free_port())
    try:
        postgres.start()
        s3.start(base / "s3.log")
        s3.create_bucket(bucket)
        yield LocalServers(postgres=postgres, s3=s3, bucket=bucket, root=base)
    finally:
        s3.stop()
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)


def engine_env(servers: LocalServers, name: str) -> dict[str, str]:
    """Every engine's settings pointed at `servers`, isolated under `name`.

    The lakehouse catalog gets PostgreSQL schema `name` in database `lake` and the data files
    `s3://<bucket>/<name>/lake/`; MLflow database `mlflow` with artifacts under
    `s3://<bucket>/<name>/mlflow/`; Dagster a database `dagster_<name>` of its own.
    """
    pg, s3 = servers.postgres, servers.s3
    return {
        "SENTIMENT_LAKE_CATALOG": pg.create_database("lake"),
        "SENTIMENT_LAKE_CATALOG_SCHEMA": name,
        "SENTIMENT_LAKE_DATA": f"s3://{servers.bucket}/{name}/lake/",
        "SENTIMENT_S3_ENDPOINT": s3.endpoint,
        "SENTIMENT_S3_REGION": s3.region,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "SENTIMENT_MLFLOW_TRACKING_URI": pg.create_database("mlflow"),
        "SENTIMENT_MLFLOW_ARTIFACTS": f"s3://{servers.bucket}/{name}/mlflow/",
        # dagster-postgres needs the psycopg2 driver named (see scaleout/instance.py).
        "SENTIMENT_DAGSTER_POSTGRES_URL": pg.create_database(f"dagster_{name}").replace(
            "postgresql://", "postgresql+psycopg2://", 1
        ),
    }
