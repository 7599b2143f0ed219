"""Build the Evidence site from the marts export, fully offline.

Steps: `npm ci` when node_modules is missing or was installed from another lock file (the only
step that needs the npm registry), `evidence sources` (source SQL on native DuckDB → Parquet),
then `evidence build:strict` (vite bundles the site and prerenders every page, running its SQL
on DuckDB-WASM 1.28.0). Evidence reports a failing page query only as an "Error in Query" log
line and still exits 0, so the log is watched: the first such line stops the build and fails
it. Telemetry stays off: `evidence.settings.json` says so (Evidence's own switch, read from the
project folder) and the environment adds DO_NOT_TRACK and npm's offline mode.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sentiment_assets.lib.dashboards.node import NodeToolchain
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets.lib.sql_text import sql_literal

DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
SOURCE_NAME = "marts"
QUERY_ERROR = "Error in Query"
WASM_PIN = "1.28.0"
# Files whose change makes an installed node_modules stale.
INSTALL_INPUTS = ("package.json", "package-lock.json", "scripts/patch-evidence.cjs", ".npmrc")
INSTALL_STAMP = Path("node_modules") / ".sentiment-install.sha256"
EVIDENCE_CLI = Path("node_modules") / "@evidence-dev" / "evidence" / "cli.js"
# Lines from `evidence sources` that mean a source did not load; with --strict it also exits 1.
SOURCE_FAILURES = ("✖", "Error in Query", "Failed to", "[!!]")

Echo = Callable[[str], None]


class DashboardBuildError(RuntimeError):
    """The site could not be built; the message says which step failed and why."""


@dataclass(frozen=True)
class BuildResult:
    """What a build produced and how long each step took, in seconds."""

    build_dir: Path
    pages: list[str]
    installed: bool
    seconds: dict[str, float] = field(default_factory=dict)


def install_fingerprint(project: Path, toolchain: NodeToolchain) -> str:
    """A hash of everything that decides what `npm ci` installs, node's path included."""
    digest = hashlib.sha256(str(toolchain.node).encode())
    for name in INSTALL_INPUTS:
        path = project / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    return digest.hexdigest()


def node_modules_current(project: Path, toolchain: NodeToolchain) -> bool:
    """Whether node_modules was installed from the current lock file and patch."""
    stamp = project / INSTALL_STAMP
    return stamp.is_file() and stamp.read_text().strip() == install_fingerprint(project, toolchain)


def offline_env(
    project: Path, marts: Path, shims: Path, toolchain: NodeToolchain
) -> dict[str, str]:
    """The environment of the sources and build steps: our node, no telemetry, no registry."""
    source_dir = project / "sources" / SOURCE_NAME
    env = {
        **os.environ,
        "PATH": toolchain.path_with(shims),
        "DO_NOT_TRACK": "1",
        # Only read by Evidence when evidence.settings.json is unreadable; belt and braces.
        "SEND_ANONYMOUS_USAGE_STATS": "no",
        # `npx vite` must resolve the local install, never ask the registry.
        "npm_config_offline": "true",
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        # The DuckDB connector joins this onto the source folder, so it must be relative to it.
        f"EVIDENCE_SOURCE__{SOURCE_NAME}__filename": os.path.relpath(marts, source_dir),
    }
    return env


def _stop(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    echo: Echo,
    stop_on: Sequence[str] = (),
) -> tuple[int, list[str]]:
    """Run `argv`, appending its output to `log` and echoing it; stop at the first `stop_on` line.

    The command runs in its own process group so that stopping it also stops what it spawned
    (Evidence runs vite through a shell).

    Returns:
        The exit code (negative when stopped) and the output lines that matched `stop_on`.
    """
    matched: list[str] = []
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(argv)}\n")
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                sink.write(line)
                echo(line.rstrip("\n"))
                if any(pattern in line for pattern in stop_on):
                    matched.append(line.strip())
                    _stop(process)
                    break
        finally:
            if process.poll() is None and matched:
                _stop(process)
            process.stdout.close()
        return process.wait(), matched


@contextlib.contextmanager
def _project_lock(project: Path) -> Iterator[None]:
    # Two builds in one project folder would share .evidence/ and build/.
    lock_dir = project / ".evidence"
    lock_dir.mkdir(exist_ok=True)
    with (lock_dir / ".sentiment-build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_node_modules(
    project: Path, toolchain: NodeToolchain, *, log: Path, echo: Echo = print
) -> bool:
    """`npm ci` in `project` unless node_modules matches the lock file; True if it installed.

    Raises:
        DashboardBuildError: npm ci failed, or the duckdb-wasm pin did not take.
    """
    if not node_modules_current(project, toolchain):
        echo("dashboards: installing Evidence (npm ci; needs the npm registry once)")
        with tempfile.TemporaryDirectory(prefix="sentiment-node-") as shims:
            env = {
                **os.environ,
                "PATH": toolchain.path_with(toolchain.write_shims(Path(shims))),
                "npm_config_update_notifier": "false",
            }
            code, _ = run_logged(
                toolchain.npm_command("ci"), cwd=project, env=env, log=log, echo=echo
            )
        if code != 0:
            raise DashboardBuildError(
                f"npm ci failed in {project} (exit {code}); see {log}. It needs the npm "
                "registry; after one install, builds run offline."
            )
        (project / INSTALL_STAMP).write_text(install_fingerprint(project, toolchain) + "\n")
        installed = True
    else:
        installed = False
    wasm = project / "node_modules" / "@duckdb" / "duckdb-wasm" / "package.json"
    version = json.loads(wasm.read_text())["version"] if wasm.is_file() else None
    if version != WASM_PIN:
        raise DashboardBuildError(
            f"@duckdb/duckdb-wasm is {version}, not {WASM_PIN}: newer builds download the "
            "parquet extension at run time and hang offline. Keep the override in package.json."
        )
    return installed


def _check_telemetry_off(project: Path) -> None:
    settings = project / "evidence.settings.json"
    try:
        value = json.loads(settings.read_text()).get("send_anonymous_usage_stats")
    except (OSError, ValueError) as exc:
        raise DashboardBuildError(f"{settings} is missing or unreadable: {exc}") from exc
    if value != "no":
        raise DashboardBuildError(
            f'{settings} must set "send_anonymous_usage_stats": "no" (Evidence telemetry).'
        )


def built_pages(build_dir: Path) -> list[str]:
    """The URL paths of the prerendered pages in `build_dir` (e.g. `/jobs/히어로/`)."""
    pages = []
    for html in sorted(build_dir.rglob("index.html")):
        relative = html.parent.relative_to(build_dir).as_posix()
        pages.append("/" if relative == "." else f"/{relative}/")
    return pages


def _fill_empty_tables(project: Path, marts: Path, *, since: float) -> None:
    """Give every mart with no rows a valid, empty Parquet file.

    `evidence sources` writes a 0-byte file (or none) for a table without rows, and the
    browser's DuckDB then refuses the whole site ("too small to be a Parquet file"). A young
    lakehouse has such marts (no feedback yet), so an empty file with the mart's columns is
    written in its place, straight from the export. Writing none also leaves an earlier
    build's file in place, with that build's columns and rows: any file older than `since`
    (a Unix time taken before `evidence sources` ran) is replaced the same way.
    """
    data = project / ".evidence" / "template" / "static" / "data" / SOURCE_NAME
    if not data.is_dir():
        return
    with duckdb.connect(str(marts), read_only=True) as con:
        for folder in sorted(p for p in data.iterdir() if p.is_dir()):
            parquet = folder / f"{folder.name}.parquet"
            if parquet.is_file():
                info = parquet.stat()
                if info.st_size > 0 and info.st_mtime >= since:
                    continue
            table = '"' + folder.name.replace('"', '""') + '"'
            target = sql_literal(str(parquet))
            con.execute(f"copy (select * from {table} limit 0) to {target} (format parquet)")


def build_dashboards(
    marts: Path, project: Path = DASHBOARDS_DIR, *, echo: Echo = print
) -> BuildResult:
    """Build the static site of `project` from the marts export `marts` into `project`/build.

    Raises:
        DashboardBuildError: the marts file is missing, a source or page query failed, the
            install or the build failed; the message names the log with the details.
    """
    marts = marts.resolve()
    project = project.resolve()
    if not marts.is_file():
        raise DashboardBuildError(
            f"{marts} does not exist: build and export the marts first (`sentiment demo`, or "
            "materialize the marts_export asset)."
        )
    _check_telemetry_off(project)
    toolchain = NodeToolchain.from_wheel()
    seconds: dict[str, float] = {}
    with _project_lock(project), tempfile.TemporaryDirectory(prefix="sentiment-node-") as tmp:
        log = project / ".evidence" / "sentiment-build.log"
        log.write_text("")
        started = time.monotonic()
        installed = ensure_node_modules(project, toolchain, log=log, echo=echo)
        seconds["install"] = time.monotonic() - started

        env = offline_env(project, marts, toolchain.write_shims(Path(tmp)), toolchain)
        cli = [str(toolchain.node), str(project / EVIDENCE_CLI)]
        # A killed earlier run leaves an empty query-cache index that breaks the next one.
        shutil.rmtree(project / ".evidence" / "meta", ignore_errors=True)

        started = time.monotonic()
        sources_started = time.time() - 1  # file times may be rounded down to the second
        code, failures = run_logged(
            [*cli, "sources", "--strict"],
            cwd=project,
            env=env,
            log=log,
            echo=echo,
            stop_on=SOURCE_FAILURES,
        )
        seconds["sources"] = time.monotonic() - started
        if code != 0 or failures:
            detail = "; ".join(failures) or f"exit {code}"
            raise DashboardBuildError(f"evidence sources failed ({detail}); see {log}")

        _fill_empty_tables(project, marts, since=sources_started)

        started = time.monotonic()
        shutil.rmtree(project / "build", ignore_errors=True)
        code, failures = run_logged(
            [*cli, "build:strict"],
            cwd=project,
            env=env,
            log=log,
            echo=echo,
            stop_on=(QUERY_ERROR,),
        )
        seconds["build"] = time.monotonic() - started
        if failures:
            raise DashboardBuildError(
                f"a page query failed: {failures[0]} (build stopped); see {log}"
            )
        build_dir = project / "build"
        if code != 0 or not (build_dir / "index.html").is_file():
            raise DashboardBuildError(f"evidence build failed (exit {code}); see {log}")
    return BuildResult(
        build_dir=build_dir, pages=built_pages(build_dir), installed=installed, seconds=seconds
    )
