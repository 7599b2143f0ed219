"""The Dagster instance on PostgreSQL: rendered from the environment, used by a real run."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from sentiment_assets.lib.scaleout.postgres_url import SettingsError
from sentiment_assets.lib.settings import Paths, ensure_dagster_home
from sentiment_assets_tests.scaleout.conftest import ScaleOut


@dg.asset(pool="lakehouse")
def numbers() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


def test_instance_storage_follows_the_url_and_keeps_pools_and_queue(
    scaleout: ScaleOut, warehouse: Path
) -> None:
    home = ensure_dagster_home(Paths.from_env())
    rendered = (home / "dagster.yaml").read_text()
    assert "env: SENTIMENT_DAGSTER_POSTGRES_URL" in rendered
    assert scaleout.servers.postgres.password not in rendered
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        result = dg.materialize([numbers], instance=instance)
        assert result.success
    # Another process (a fresh instance object) sees the run and the materialization.
    with dg.DagsterInstance.from_config(str(home)) as again:
        runs = again.get_runs()
        assert [r.run_id for r in runs] == [result.run_id] and runs[0].is_success
        event = again.get_latest_materialization_event(dg.AssetKey("numbers"))
        assert event is not None and event.run_id == result.run_id


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "is not a PostgreSQL URL"),
        ("postgresql://u:p@127.0.0.1:5432/dagster", "must start with postgresql+psycopg2://"),
    ],
)
def test_a_malformed_url_stops_before_dagster_starts(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("SENTIMENT_DAGSTER_POSTGRES_URL", url)
    with pytest.raises(SettingsError, match="SENTIMENT_DAGSTER_POSTGRES_URL") as caught:
        ensure_dagster_home(Paths.from_env())
    assert expected in str(caught.value)
