"""A real, temporary Dagster deployment: instance, daemon, waits on runs.

`LoopDeployment` lays out a temporary DAGSTER_HOME (the project's dagster.yaml), lakehouse and
models folder, runs `dagster-daemon run` in its own process group against a workspace, and
answers questions about the instance (runs of a job, their metadata, sensor ticks). Every wait
is bounded and says what it waited for when it gives up, with the daemon's log tail.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

from sentiment_assets.lib.crawl.records import KST
from sentiment_assets.lib.crawl.run import REPLAY_EPOCH_FILE
from sentiment_assets.lib.settings import PROJECT_ROOT

T = TypeVar("T")
BIN = Path(sys.executable).parent
IN_PROCESS_LOCATION = "sentiment_assets.rehearsal.location"
"""The project's definitions with the in-process executor (what the loop test loads)."""
PROJECT_LOCATION = "sentiment_assets.definitions"
"""The project's code location as `make dev` serves it (a process per step)."""
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


class RehearsalError(AssertionError):
    """The rehearsal did not go as a working deployment would: a run failed, a wait ran out.

    An AssertionError, so that a test running the rehearsal reports it as a failed check.
    """


class WaitTimeout(RehearsalError):
    """A bounded wait ran out."""


@dataclass
class LoopDeployment:
    """A temporary deployment: folders, environment, and (once started) the daemon."""

    root: Path
    module: str = IN_PROCESS_LOCATION
    daemon: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Lay out the folders and the environment every process of the deployment shares."""
        self.home = self.root / "dagster_home"
        self.warehouse = self.root / "warehouse"
        self.models = self.root / "models"
        for folder in (self.home, self.warehouse, self.models):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.workspace = self.root / "workspace.yaml"
        self.workspace.write_text(
            "load_from:\n"
            "  - python_module:\n"
            f"      module_name: {self.module}\n"
            "      location_name: sentiment_assets\n"
            f"      working_directory: {PROJECT_ROOT}\n"
        )
        self.log = self.root / "daemon.log"
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "SENTIMENT_WAREHOUSE": str(self.warehouse),
            "SENTIMENT_MODELS": str(self.models),
            "SENTIMENT_LLM_PROVIDER": "weak",
            "PYTHONPATH": str(PROJECT_ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "1",
        }

    # -- the replay site's clock ----------------------------------------------------------------

    def backdate_replay_site(self, posts: int, *, initial: int = 360, every_s: float = 20) -> None:
        """Start the replay site's clock so that `posts` posts exist now (and ~20 s more)."""
        back = timedelta(seconds=(posts - initial) * every_s + every_s / 2)
        start = datetime.now(KST).replace(tzinfo=None, microsecond=0) - back
        (self.warehouse / REPLAY_EPOCH_FILE).write_text(start.isoformat() + "\n")

    # -- processes ------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run a command of the venv (`sentiment ...`, `dagster ...`) in this deployment."""
        done = subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RehearsalError(
                f"{' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
            )
        return done

    def start_daemon(self) -> None:
        """`dagster-daemon run` in its own process group (it starts a code server and runs)."""
        # Create the instance's SQLite storages first: the daemon and this process creating
        # them at the same moment can race on their schema.
        with self.instance() as instance:
            instance.get_runs(limit=1)
            instance.all_instigator_state()
            instance.get_latest_materialization_event(dg.AssetKey("raw_posts"))
        handle = self.log.open("ab")
        self.daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop_daemon(self, grace_s: float = 30) -> None:
        """Stop the daemon and everything it started; kill what outlives `grace_s`."""
        if self.daemon is None:
            return
        pgid = self.daemon.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.daemon.wait(timeout=grace_s)
                break
            except subprocess.TimeoutExpired:
                continue
        # Run workers outlive a daemon that was told to stop; they share its process group.
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.daemon = None

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the daemon's log, for failure messages."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    # -- the instance ---------------------------------------------------------------------------

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The deployment's instance, opened from its DAGSTER_HOME."""
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            yield instance

    def runs(self, job: str) -> list[dg.DagsterRun]:
        """Runs of `job`, oldest first."""
        with self.instance() as instance:
            return list(reversed(instance.get_runs(filters=RunsFilter(job_name=job))))

    def wait(self, what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
        """Poll `probe` until it returns something; WaitTimeout naming `what` after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = probe()
            if found is not None:
                return found
            if self.daemon is not None and self.daemon.poll() is not None:
                raise WaitTimeout(f"the daemon exited while waiting for {what}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise WaitTimeout(f"no {what} within {timeout_s:.0f} s:\n{self.log_tail()}")
            time.sleep(1.0)

    def wait_for_run(self, job: str, timeout_s: float, *, after: int = 0) -> dg.DagsterRun:
        """The `after`-th (0-based) run of `job` once it finished; RehearsalError unless success."""

        def finished() -> dg.DagsterRun | None:
            runs = self.runs(job)
            return runs[after] if len(runs) > after and runs[after].status in FINISHED else None

        run = self.wait(f"finished run {after + 1} of {job}", finished, timeout_s)
        if run.status != DagsterRunStatus.SUCCESS:
            raise RehearsalError(f"{job} run {run.run_id} ended {run.status}:\n{self.failure(run)}")
        return run

    def run_end(self, run: dg.DagsterRun) -> float:
        """When `run` ended (a Unix time)."""
        with self.instance() as instance:
            record = instance.get_run_record_by_id(run.run_id)
        if record is None or record.end_time is None:
            raise RehearsalError(f"run {run.run_id} has no end time")
        return float(record.end_time)

    def failure(self, run: dg.DagsterRun) -> str:
        """The run's error messages, for failure messages."""
        with self.instance() as instance:
            records = instance.all_logs(run.run_id)
        errors = [
            str(r.dagster_event.event_specific_data) if r.dagster_event else r.user_message
            for r in records
            if logging.getLevelName(r.level) in ("ERROR", "CRITICAL")
            or (isinstance(r.level, int) and r.level >= logging.ERROR)
        ]
        return "\n".join(errors)[-4000:]

    def materialization(self, run: dg.DagsterRun, asset: str) -> dict[str, Any]:
        """The metadata `run` recorded for `asset`'s materialization (plain values)."""
        with self.instance() as instance:
            records = instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            )
        for record in records:
            event = record.dagster_event
            if event is None:
                continue
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key == dg.AssetKey(asset):
                return {k: v.value for k, v in materialization.metadata.items()}
        raise RehearsalError(f"run {run.run_id} did not materialize {asset}")

    def sensor_ticks(self, sensor: str) -> list[Any]:
        """Ticks of `sensor`, newest first."""
        with self.instance() as instance:
            for state in instance.all_instigator_state():
                if state.name == sensor:
                    return list(instance.get_ticks(state.instigator_origin_id, state.selector_id))
        return []
