"""A build that cannot be trusted fails loudly: broken page or source SQL, missing marts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.lib.dashboards.build import (
    INSTALL_STAMP,
    DashboardBuildError,
    build_dashboards,
    install_fingerprint,
    node_modules_current,
)
from sentiment_assets.lib.dashboards.node import NodeToolchain
from sentiment_assets_tests.dashboards.conftest import copy_project

BROKEN_PAGE = """---
title: Broken
---

```sql broken
select no_such_column from marts.model_quality
```

<DataTable data={broken} />
"""


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_failing_page_query_fails_the_build(
    marts_file: Path, node_modules: Path, tmp_path: Path
) -> None:
    project = copy_project(node_modules, tmp_path / "project")
    (project / "pages" / "broken.md").write_text(BROKEN_PAGE)
    with pytest.raises(DashboardBuildError, match=r"a page query failed: .*Error in Query"):
        build_dashboards(marts_file, project, echo=lambda line: None)
    assert not (project / "build" / "index.html").exists()


@pytest.mark.slow
def test_a_failing_source_query_fails_before_the_site_is_built(
    marts_file: Path, node_modules: Path, tmp_path: Path
) -> None:
    project = copy_project(node_modules, tmp_path / "project")
    (project / "sources" / "marts" / "broken.sql").write_text("select * from no_such_table\n")
    with pytest.raises(DashboardBuildError, match="evidence sources failed"):
        build_dashboards(marts_file, project, echo=lambda line: None)
    log = (project / ".evidence" / "sentiment-build.log").read_text()
    assert "no_such_table" in log and "build:strict" not in log


def test_missing_marts_fail_clearly_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "marts.duckdb"
    assert main(["dashboards", "build", "--marts", str(missing)]) == 1
    assert "does not exist: build and export the marts first" in capsys.readouterr().err
    assert main(["dashboards", "serve", "--dir", str(tmp_path), "--port", "0"]) == 1
    assert "run `sentiment dashboards build` first" in capsys.readouterr().err


def test_node_modules_are_stale_when_the_lock_file_changes(tmp_path: Path) -> None:
    toolchain = NodeToolchain.from_wheel()
    for name in ("package.json", "package-lock.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "node_modules").mkdir()
    assert not node_modules_current(tmp_path, toolchain)
    (tmp_path / INSTALL_STAMP).write_text(install_fingerprint(tmp_path, toolchain))
    assert node_modules_current(tmp_path, toolchain)
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    assert not node_modules_current(tmp_path, toolchain)
