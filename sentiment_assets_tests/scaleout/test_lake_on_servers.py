"""The lakehouse with its catalog in PostgreSQL and its data files on S3, on real servers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg2
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse, LakehouseError
from sentiment_assets_tests.scaleout.conftest import ScaleOut


def test_writes_land_in_postgres_and_s3_and_time_travel_works(
    scaleout: ScaleOut, warehouse: Path, tmp_path: Path
) -> None:
    lake = Lakehouse(warehouse)
    assert not lake.exists()
    first = lake.append("posts", pd.DataFrame({"id": [1, 2, 3]}), key=("id",))
    second = lake.append("posts", pd.DataFrame({"id": [3, 4]}), key=("id",))
    assert (first.rows_written, second.rows_written) == (3, 1)
    assert lake.exists()

    # Nothing of the lake is on this machine's disk: no SQLite catalog, no Parquet files.
    assert not (warehouse / "catalog.sqlite").exists()
    assert not list(warehouse.rglob("*.parquet"))
    files = scaleout.keys(scaleout.data_prefix)
    assert len(files) == 2 and all(k.endswith(".parquet") for k in files)
    with psycopg2.connect(scaleout.env["SENTIMENT_LAKE_CATALOG"]) as con, con.cursor() as cur:
        cur.execute(f"select count(*) from {scaleout.name}.ducklake_data_file")
        assert cur.fetchone() == (2,)

    # Another machine (another warehouse folder, same settings) sees the same lake and history.
    elsewhere = Lakehouse(tmp_path / "other-machine")
    with elsewhere.session() as session:
        assert sorted(session.read_table("posts")["id"]) == [1, 2, 3, 4]
        assert sorted(session.read_table("posts", snapshot_id=first.snapshot_id)["id"]) == [1, 2, 3]


def test_a_wrong_password_is_a_clear_error_without_the_password(
    scaleout: ScaleOut, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = scaleout.env["SENTIMENT_LAKE_CATALOG"]
    password = scaleout.servers.postgres.password
    monkeypatch.setenv("SENTIMENT_LAKE_CATALOG", url.replace(password, "not-the-password"))
    with pytest.raises(LakehouseError) as caught, Lakehouse(warehouse).session():
        pass
    message = str(caught.value)
    assert "Could not open the lakehouse" in message and "***" in message
    assert "not-the-password" not in message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SENTIMENT_LAKE_CATALOG", "mysql://u:p@h/db", "is not a PostgreSQL URL"),
        ("SENTIMENT_LAKE_CATALOG", "postgresql://h:5432/db", "lacks user"),
        ("SENTIMENT_LAKE_DATA", "gs://bucket/lake/", "only s3:// URLs"),
        ("SENTIMENT_LAKE_DATA", "s3:///lake/", "must be an s3://bucket/prefix/ URL"),
        ("SENTIMENT_S3_ENDPOINT", "127.0.0.1:9000", "must be http(s)://host[:port]"),
        ("AWS_SECRET_ACCESS_KEY", "", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_bad_settings_name_the_variable(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    good = {
        "SENTIMENT_LAKE_CATALOG": "postgresql://u:secret@127.0.0.1:1/lake",
        "SENTIMENT_LAKE_DATA": "s3://bucket/lake/",
        "SENTIMENT_S3_ENDPOINT": "http://127.0.0.1:9000",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    for key, val in {**good, variable: value}.items():
        monkeypatch.setenv(key, val)
    with pytest.raises(LakehouseError) as caught:
        Lakehouse(warehouse)
    assert expected in str(caught.value) and variable in str(caught.value)
    assert "secret@" not in str(caught.value)
