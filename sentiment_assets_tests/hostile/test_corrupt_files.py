"""Damaged files: a Parquet file of the lake cut short, a model file cut short.

Each stops what needs it with an error naming the file, and loses nothing: the lake's other
tables keep working and the damaged table's rows return with the file; the server keeps
answering with the champion it had.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from sentiment_assets.lib.crawl.replay.server import ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.integrity import DamagedDataFile, damaged_files
from sentiment_assets.lib.registry import ModelRegistry
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets_tests.crawl.conftest import crawl_lake, lake_rows
from sentiment_assets_tests.feedback.helpers import serve, serving_settings, train_ensemble


def test_a_damaged_parquet_file_stops_readers_clearly_and_its_rows_return_with_it(
    server: ReplayServer, site: SyntheticSite, lakehouse: Lakehouse, tmp_path: Path
) -> None:
    crawl_lake(server, lakehouse, "2294", batch_size=5)
    stored = lake_rows(lakehouse, "select count(*) from lake.raw_posts")
    files = sorted((lakehouse.data_path / "main" / "raw_posts").glob("*.parquet"))
    assert len(files) > 1
    victim = files[1]
    backup = tmp_path / "backup.parquet"
    shutil.copy2(victim, backup)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])

    with lakehouse.session() as session:
        listed = damaged_files(session.con)
    assert [(d.table, Path(d.path).name) for d in listed] == [("main.raw_posts", victim.name)]

    site.clock.advance(60 * 60)  # new posts wait on the site
    with pytest.raises(DamagedDataFile) as caught:
        crawl_lake(server, lakehouse, "2294")
    message = str(caught.value)
    assert str(victim) in message and "raw_posts" in message and "restored" in message
    # Writers of other tables are not held up by it.
    lakehouse.append("feedback_probe", pd.DataFrame({"id": [1]}), key=("id",))

    shutil.copy2(backup, victim)  # the backup comes back: so do its rows
    crawl_lake(server, lakehouse, "2294")
    rows = lake_rows(
        lakehouse,
        "select count(*), count(distinct post_id) from lake.raw_posts where board_id = 2294",
    )
    assert rows == [(len(site.visible(2294)), len(site.visible(2294)))]
    assert rows[0][0] > stored[0][0]


def _wait(client: httpx.Client, check, what: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        health = client.get("/health").json()
        if check(health):
            return health
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {health}"
        time.sleep(0.1)


def test_a_damaged_model_file_is_named_and_the_old_champion_keeps_serving(
    warehouse: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"  # SENTIMENT_MODELS of the `warehouse` fixture
    good, bad = train_ensemble(models), train_ensemble(models)
    registry = ModelRegistry(models)
    first = registry.register(good, run_id=None, tags={})
    second = registry.register(bad, run_id=None, tags={})
    registry.promote(first.number, reason="test: the good one serves")
    lexicons = sorted(p for p in (models / "lexicon").iterdir() if p.is_dir())
    damaged = [f for f in lexicons[-1].iterdir() if f.is_file() and f.suffix != ".json"]
    assert damaged, "the second lexicon has a weights file to damage"
    for path in damaged:
        path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])

    settings = serving_settings(tmp_path, model_check_interval_s=0.0)
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/health").json()["model_version"] == good
        registry.promote(second.number, reason="test: a damaged version is promoted")
        health = _wait(client, lambda h: h.get("model_error"), "the reload to fail")
        assert health["model_version"] == good
        assert any(str(path) in health["model_error"] for path in damaged), health["model_error"]
        answer = client.post("/predict", json={"text": "보스 보상 좋다"})
        assert answer.status_code == 200 and answer.json()["model_version"] == good

    # A server starting with only the damaged champion says why it cannot predict.
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        refused = client.post("/predict", json={"text": "보스 보상 좋다"})
        assert refused.status_code == 503
        assert any(str(path) in refused.json()["detail"] for path in damaged)
