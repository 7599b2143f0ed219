"""`sentiment demo-distributed`: the demo job on PostgreSQL + S3, through the daemon's run queue.

It starts a PostgreSQL cluster and moto's S3 server on 127.0.0.1, points all three engines at
them (Dagster storage, the DuckLake catalog and data files, MLflow tracking and artifacts),
starts `dagster-daemon`, submits `demo_job` to the instance's run queue and waits while the
daemon dequeues it and the run launcher starts it in a process of its own; then it checks that
the marts read back from object storage match what the export wrote, and stops everything.
Nothing is left behind: the servers, their data and the local folders live in one temporary
folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_assets.lib.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from dagster import DagsterInstance, DagsterRunStatus

    from sentiment_assets.lib.scaleout.servers import LocalServers

RUN_TIMEOUT_S = 60 * 60
NAME = "demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo-distributed` subcommand."""
    parser = subparsers.add_parser(
        "demo-distributed",
        help="run the demo job on local PostgreSQL + S3 servers through the daemon's run queue",
    )
    parser.add_argument(
        "--timeout", type=int, default=RUN_TIMEOUT_S, help="seconds to wait for the run"
    )
    parser.set_defaults(handler=run)


def _say(message: str) -> None:
    print(f"[demo-distributed] {message}", flush=True)


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def run(args: argparse.Namespace) -> int:
    """Start the servers, run the demo through the queue, verify, stop; 0 when all checks pass."""
    from sentiment_assets.lib.scaleout.servers import ServerUnavailable, engine_env, local_servers

    try:
        with local_servers() as servers:
            _say(
                f"PostgreSQL {servers.postgres.url().split('@')[1]} and S3 {servers.s3.endpoint} "
                f"(bucket {servers.bucket}) are up"
            )
            local = servers.root / "local"
            env = {
                **engine_env(servers, NAME),
                "SENTIMENT_WAREHOUSE": str(local / "warehouse"),
                "SENTIMENT_MODELS": str(local / "models"),
                "DAGSTER_HOME": str(local / "dagster_home"),
            }
            os.environ.update(env)
            return _run_demo(servers, local, timeout=args.timeout)
    except ServerUnavailable as exc:
        print(f"demo-distributed: {exc}", file=sys.stderr)
        return 2


def _run_demo(servers: LocalServers, local: Path, *, timeout: int) -> int:
    import dagster as dg

    from sentiment_assets.lib.settings import ensure_dagster_home, mlflow_tracking_uri

    home = ensure_dagster_home()
    _say(f"Dagster instance {home} (storage: PostgreSQL)")
    # MLflow creates its schema on first use; doing it once here keeps parallel steps from
    # racing on the migrations.
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=mlflow_tracking_uri()).search_experiments()

    bin_dir = Path(sys.executable).parent
    child_env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    daemon_log = local / "dagster-daemon.log"
    with daemon_log.open("ab") as log:
        daemon = subprocess.Popen(
            [str(bin_dir / "dagster-daemon"), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
            cwd=PROJECT_ROOT,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        launched = subprocess.run(
            [
                str(bin_dir / "dagster"),
                "job",
                "launch",
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
                "-j",
                "demo_job",
            ],
            cwd=PROJECT_ROOT,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if launched.returncode != 0:
            print(launched.stdout[-3000:] + launched.stderr[-3000:], file=sys.stderr)
            return 1
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs(dg.RunsFilter(job_name="demo_job"))
            if len(runs) != 1:
                print(f"expected one submitted demo run, found {len(runs)}", file=sys.stderr)
                return 1
            run_id = runs[0].run_id
            _say(f"run {run_id} submitted to the run queue ({runs[0].status.value})")
            status = _wait(instance, run_id, daemon, timeout=timeout)
            if status != dg.DagsterRunStatus.SUCCESS:
                record = instance.get_run_by_id(run_id)
                if record is not None and not record.is_finished:
                    instance.run_launcher.terminate(run_id)
                _report_failure(instance, run_id, status, daemon_log)
                return 1
            # Enqueued by the coordinator (we only submitted it), then started by the daemon:
            # nothing else launches a queued run.
            enqueued = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED)
            starting = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_STARTING)
            launcher = type(instance.run_launcher).__name__
            if not enqueued or not starting:
                print("the run did not go through the daemon's run queue", file=sys.stderr)
                return 1
            _say(f"run {run_id} succeeded: enqueued, then started by the daemon via {launcher}")
            return _verify(instance, servers)
    finally:
        _stop_daemon(daemon)
        _say("dagster-daemon stopped")


def _stop_daemon(daemon: subprocess.Popen) -> None:
    """Stop the daemon, then whatever it started (its code server, a run still going).

    The daemon leads its own process group (start_new_session), which its code server and run
    workers inherit; they do not always exit with it, so the group gets the signal too.
    """
    daemon.send_signal(signal.SIGINT)
    try:
        daemon.wait(timeout=60)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait(timeout=30)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(daemon.pid, sig)
        except ProcessLookupError:
            return
        time.sleep(5)


def _wait(
    instance: DagsterInstance, run_id: str, daemon: subprocess.Popen, *, timeout: int
) -> DagsterRunStatus:
    import dagster as dg

    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        record = instance.get_run_by_id(run_id)
        status = record.status if record else None
        if status != seen:
            _say(f"run status: {status.value if status else 'unknown'}")
            seen = status
        if record is not None and record.is_finished:
            return record.status
        if daemon.poll() is not None:
            _say(f"dagster-daemon exited with status {daemon.returncode}")
            return dg.DagsterRunStatus.FAILURE
        time.sleep(5)
    _say(f"the run did not finish within {timeout} s")
    return dg.DagsterRunStatus.FAILURE


def _report_failure(
    instance: DagsterInstance, run_id: str, status: DagsterRunStatus, daemon_log: Path
) -> None:
    import dagster as dg

    print(f"demo run {run_id} ended {status.value}", file=sys.stderr)
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        print(f"- {event.step_key if event else '?'}: {error.message if error else ''}"[:2000])
    print("dagster-daemon log (tail):\n" + _tail(daemon_log), file=sys.stderr)


def _verify(instance: DagsterInstance, servers: LocalServers) -> int:
    """Check every engine's data is on the servers and the marts read back from S3."""
    import dagster as dg
    import duckdb
    import psycopg2
    from mlflow import MlflowClient

    from sentiment_assets.lib.lakehouse import Lakehouse
    from sentiment_assets.lib.marts.published import fetch
    from sentiment_assets.lib.settings import Paths, mlflow_tracking_uri

    problems: list[str] = []
    paths = Paths.from_env()
    lake = Lakehouse(paths.warehouse)
    if lake.catalog_path.exists() or list(paths.warehouse.rglob("*.parquet")):
        problems.append(f"lake files on local disk under {paths.warehouse}")
    s3 = servers.s3.client()
    lake_files = s3.list_objects_v2(Bucket=servers.bucket, Prefix=f"{NAME}/lake/").get(
        "KeyCount", 0
    )
    mlflow_files = s3.list_objects_v2(Bucket=servers.bucket, Prefix=f"{NAME}/mlflow/").get(
        "KeyCount", 0
    )
    with psycopg2.connect(os.environ["SENTIMENT_LAKE_CATALOG"]) as con, con.cursor() as cur:
        cur.execute(f"select count(*) from {NAME}.ducklake_snapshot")
        row = cur.fetchone()
        snapshots = int(row[0]) if row else 0
    client = MlflowClient(tracking_uri=mlflow_tracking_uri())
    mlflow_runs = sum(
        len(client.search_runs([e.experiment_id])) for e in client.search_experiments()
    )
    _say(
        f"lakehouse: {snapshots} snapshots in PostgreSQL, {lake_files} data files in S3; "
        f"MLflow: {mlflow_runs} runs in PostgreSQL, {mlflow_files} artifact files in S3"
    )
    if snapshots == 0 or lake_files == 0:
        problems.append("the lakehouse wrote nothing to PostgreSQL/S3")
    if mlflow_runs == 0 or mlflow_files == 0:
        problems.append("MLflow recorded nothing in PostgreSQL/S3")

    event = instance.get_latest_materialization_event(dg.AssetKey("marts_export"))
    materialization = event.asset_materialization if event else None
    if materialization is None:
        problems.append("marts_export was not materialized")
    else:
        expected = dict(materialization.metadata["rows_by_table"].value)  # type: ignore[arg-type]
        reader = paths.warehouse.parent / "reader" / "marts.duckdb"
        published = fetch(lake.location, reader)
        with duckdb.connect(str(reader), read_only=True) as con:
            got = {
                table: int(con.execute(f'select count(*) from "{table}"').fetchone()[0])  # type: ignore[index]
                for table in expected
            }
        _say(
            f"marts read back from {published.url}{published.export_id}/: {len(got)} tables, "
            f"{sum(got.values())} rows"
        )
        if got != expected:
            problems.append(f"marts read back from S3 differ from the export: {got} != {expected}")
    if problems:
        for problem in problems:
            print(f"demo-distributed: {problem}", file=sys.stderr)
        return 1
    _say("all checks passed; stopping the servers")
    return 0
