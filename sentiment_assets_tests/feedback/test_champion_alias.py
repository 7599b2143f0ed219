"""The API serves the registry's champion, and follows the alias when it moves.

Two ensembles are registered and the older one is promoted: the API must serve it, not the
newest save, and the review app (a client of the API) must show it. Promoting the newer one and
rolling back must each be picked up by the running server without a restart.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from sentiment_assets.cli.review_app import APP
from sentiment_assets.lib.registry import ModelRegistry
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets.review_app.client import API_URL_ENV
from sentiment_assets_tests.feedback.helpers import serve, train_ensemble


def _wait_for_version(client: httpx.Client, version: str) -> None:
    deadline = time.monotonic() + 30
    while (served := client.get("/health").json()["model_version"]) != version:
        assert time.monotonic() < deadline, f"still serving {served}, expected {version}"
        time.sleep(0.1)


def test_the_champion_alias_decides_what_serves_and_its_moves_are_hot_swapped(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"  # SENTIMENT_MODELS of the `warehouse` fixture
    older = train_ensemble(models)
    newer = train_ensemble(models)
    registry = ModelRegistry(models)
    first = registry.register(older, run_id=None, tags={})
    second = registry.register(newer, run_id=None, tags={})
    registry.promote(first.number, reason="test: the older one serves")

    settings = ServingSettings(
        warehouse=warehouse,
        models=models,
        feedback_db=warehouse / "feedback.sqlite",
        model_check_interval_s=0.0,
    )
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        monkeypatch.setenv(API_URL_ENV, url)
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not at.exception
        assert [c.value for c in at.caption if "model version" in c.value] == [
            f"model version: {older}"
        ]
        assert client.get("/health").json()["model_version"] == older
        registry.promote(second.number, reason="test: promotion")
        _wait_for_version(client, newer)
        answer = client.post("/predict", json={"text": "보스 보상 좋다"}).json()
        assert answer["model_version"] == newer
        registry.rollback()
        _wait_for_version(client, older)
