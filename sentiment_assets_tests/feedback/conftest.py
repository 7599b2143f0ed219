"""The serving API the review app talks to, over the `warehouse` fixture's folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiment_assets.review_app.client import API_URL_ENV
from sentiment_assets_tests.feedback.helpers import serve_review_api


@pytest.fixture
def review_api(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`serve_review_api` for `warehouse`, with the review app pointed at it; its URL.

    Train the model first (list its fixture before this one): the API loads it at start.
    """
    with serve_review_api(warehouse) as url:
        monkeypatch.setenv(API_URL_ENV, url)
        yield url
