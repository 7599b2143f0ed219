"""The serving API the review app talks to, over the `warehouse` fixture's folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets.review_app.client import API_URL_ENV
from sentiment_assets_tests.feedback.helpers import REVIEWER, TOKEN, add_reviewer, serve


@pytest.fixture
def review_api(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`sentiment serve` for the warehouse and models of `warehouse`; the app is pointed at it.

    TOKEN is REVIEWER's; the API follows the champion and the queue without caching.
    """
    settings = ServingSettings(
        warehouse=warehouse,
        models=warehouse.parent / "models",  # SENTIMENT_MODELS of the `warehouse` fixture
        feedback_db=warehouse / "feedback.sqlite",
        model_check_interval_s=0.0,
        review_cache_s=0.0,
    )
    add_reviewer(settings.feedback_db, REVIEWER, token=TOKEN)
    with serve(create_app(settings)) as url:
        monkeypatch.setenv(API_URL_ENV, url)
        yield url
