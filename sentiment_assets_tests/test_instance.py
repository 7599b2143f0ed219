"""The Dagster instance the project sets up: pools, run queue, telemetry."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from sentiment_assets.lib.settings import Paths, ensure_dagster_home


def test_dagster_home_is_created_with_single_slot_pools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert ensure_dagster_home(Paths.from_env()) == home
    with dg.DagsterInstance.from_config(str(home)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1
        assert config.run_queue_config is not None
        assert config.run_queue_config.max_concurrent_runs == 4
        assert instance.run_retries_enabled


def test_tracked_dagster_yaml_changes_reach_an_existing_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    ensure_dagster_home(Paths.from_env())
    assert "default_limit: 1" in (home / "dagster.yaml").read_text()
