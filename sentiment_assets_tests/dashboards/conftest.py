"""Session fixtures: one small real marts export, one offline Evidence build of a project copy.

The Evidence install (node_modules, about 650 MB) is cached in dashboards/node_modules between
runs and only reinstalled when the lock file changes. Each session builds a copy of the project
in a temp folder (its node_modules a link to the cached one), so the checkout's dashboards/build
is left alone. Where the machine allows a network namespace, the build runs in one that has only
loopback, so every test run also proves the build needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster_dbt import DbtCliResource

from sentiment_assets.defs.dbt.assets import marts_export, post_keywords, sentiment_marts
from sentiment_assets.defs.dbt.resources import dbt_project
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.dashboards.build import (
    DASHBOARDS_DIR,
    BuildResult,
    build_dashboards,
    built_pages,
    ensure_node_modules,
)
from sentiment_assets.lib.dashboards.node import NodeToolchain
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.marts.manifest import dbt_executable
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.marts.sample_lake import ensemble_predictions, raw_posts, write_upstream

# Real job names the sample lake lacks that are awkward in a URL (parentheses, a comma), and
# 제논, which is listed under two job groups (two boards).
AWKWARD_JOBS = [("마법사", "아크메이지(불,독)", 102), ("도적", "제논", 104), ("해적", "제논", 105)]

# A post whose title is markup: it must show as text on its job's page, never run.
HOSTILE_JOB = ("전사", "아델", 101)
HOSTILE_TITLE = (
    '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> '
    '<a href="javascript:window.__xss = 3">아델</a> & "따옴표" </td>'
)

# What a copy of the project leaves out: installs and outputs.
NOT_COPIED = shutil.ignore_patterns("node_modules", "build", ".evidence")


def loopback_only_prefix() -> list[str] | None:
    """The argv prefix that runs a command in a new network namespace with only `lo` up.

    None where this machine does not allow it (no unshare/ip, or namespaces not permitted).
    """
    if not shutil.which("unshare") or not shutil.which("ip"):
        return None
    prefix = ["unshare", "--net"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    probe = subprocess.run(
        [*prefix, "ip", "link", "set", "lo", "up"], capture_output=True, check=False
    )
    return prefix if probe.returncode == 0 else None


def in_namespace(prefix: list[str]) -> list[str]:
    """`prefix` plus a shell that brings `lo` up, then runs the argv that follows it."""
    return [*prefix, "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


@pytest.fixture(scope="session")
def marts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """marts.duckdb exported from the demo-shaped sample lake, through the real Dagster assets."""
    root = tmp_path_factory.mktemp("dashboards-lake") / "warehouse"
    lake = Lakehouse(root)
    write_upstream(lake)
    extra = raw_posts(2 * len(AWKWARD_JOBS))
    for i, (job_group, job, board_id) in enumerate(AWKWARD_JOBS * 2):
        extra.loc[i, ["job_group", "category", "job"]] = [job_group, job, job]
        extra.loc[i, ["board_id", "post_id", "board_name"]] = [
            board_id,
            5000 + i,
            f"board {board_id}",
        ]
        extra.loc[i, "url"] = f"https://www.inven.co.kr/board/maple/{board_id}/{5000 + i}"
    hostile = raw_posts(1)
    job_group, job, _board = HOSTILE_JOB
    hostile.loc[0, ["job_group", "category", "job"]] = [job_group, job, job]
    hostile.loc[0, ["post_id", "title", "body"]] = [6000, HOSTILE_TITLE, HOSTILE_TITLE]
    hostile.loc[0, "url"] = "https://www.inven.co.kr/board/maple/101/6000"
    extra = pd.concat([extra, hostile], ignore_index=True)
    with lake.session() as session:
        session.append("raw_posts", extra, key=("board_id", "post_id"))
        session.append("ensemble_predictions", ensemble_predictions(extra, ("v1", "v2")))
    result = dg.materialize(
        [post_keywords, sentiment_marts, marts_export],
        resources={
            "lakehouse": LakehouseResource(path=str(root)),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
    )
    assert result.success
    return root / "marts.duckdb"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The cached Evidence install in dashboards/node_modules (npm ci only when stale)."""
    project = DASHBOARDS_DIR
    (project / ".evidence").mkdir(exist_ok=True)
    ensure_node_modules(
        project,
        NodeToolchain.from_wheel(),
        log=project / ".evidence" / "sentiment-install.log",
        echo=lambda line: None,
    )
    return project / "node_modules"


def copy_project(node_modules: Path, target: Path) -> Path:
    """A copy of dashboards/ at `target` that shares the cached node_modules."""
    shutil.copytree(DASHBOARDS_DIR, target, ignore=NOT_COPIED)
    (target / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return target


@pytest.fixture(scope="session")
def loopback_prefix() -> list[str] | None:
    """`loopback_only_prefix()` once per session."""
    return loopback_only_prefix()


@pytest.fixture(scope="session")
def built_site(
    marts_file: Path,
    node_modules: Path,
    loopback_prefix: list[str] | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BuildResult]:
    """The site built from `marts_file`, offline (in a loopback-only namespace where allowed)."""
    project = copy_project(node_modules, tmp_path_factory.mktemp("dashboards") / "project")
    prefix = loopback_prefix
    if prefix is None:
        yield build_dashboards(marts_file, project, echo=lambda line: None)
        return
    log = project.parent / "offline-build.log"
    with log.open("w") as sink:
        done = subprocess.run(
            [
                *in_namespace(prefix),
                sys.executable,
                "-m",
                "sentiment_assets.cli.main",
                "dashboards",
                "build",
                "--marts",
                str(marts_file),
                "--project",
                str(project),
            ],
            cwd=PROJECT_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    assert done.returncode == 0, log.read_text()[-4000:]
    build_dir = project / "build"
    yield BuildResult(build_dir=build_dir, pages=built_pages(build_dir), installed=False)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $SENTIMENT_TEST_ARTIFACTS when CI collects them, else tmp."""
    folder = Path(os.environ.get("SENTIMENT_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
