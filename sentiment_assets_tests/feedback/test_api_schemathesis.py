"""Property-based run of the serving API against its own OpenAPI spec: no input makes a 5xx.

Schemathesis generates requests from /openapi.json (valid ones and, in negative mode, ones that
break the schema) and sends them to a real uvicorn server on 127.0.0.1 with a trained model and
a lakehouse holding predictions, once with the bearer token and once without. A 5xx is a bug
in lib/serving; the examples per operation are bounded so the run stays within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.settings import ServingSettings
from sentiment_assets_tests.feedback.helpers import (
    TOKEN,
    serve,
    train_ensemble,
    write_posts,
    write_predictions,
)

EXAMPLES = 25
"""Examples per operation and generation mode: enough to reach every validator and the 4xx
paths, few enough to keep the run in seconds."""
OPERATIONS = [
    ("GET", "/health"),
    ("POST", "/predict"),
    ("POST", "/feedback"),
    ("GET", "/review-queue"),
    ("POST", "/review"),
]
WRITES = {"/feedback", "/review"}


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = ServingSettings(
        api_token=TOKEN,
        warehouse=root / "warehouse",
        models=root / "models",
        feedback_db=root / "warehouse" / "feedback.sqlite",
        max_body_bytes=16_384,
        model_check_interval_s=60.0,
        review_cache_s=0.0,
    )
    version = train_ensemble(settings_.models)
    lake = Lakehouse(settings_.warehouse)
    # Small ids that generated integers hit, so /review reaches the store, not only the 404.
    write_predictions(lake, version, [(0, 0, "부정", 0.4), (1, 1, "긍정", 0.9)])
    write_posts(lake, [(0, 0, "히어로", "2025-01-01"), (1, 1, "비숍", "2025-02-01")])
    with serve(create_app(settings_)) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    return schema


@pytest.fixture(scope="module")
def http(api_url: str) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_the_fuzzed_operations_are_every_operation_of_the_spec(
    api_schema: schemathesis.BaseSchema,
) -> None:
    documented = set()
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the spec has an invalid operation: {result}"
        documented.add((result.ok().method.upper(), result.ok().path))
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        (method, path, mode)
        for method, path in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        # /health takes no input at all, so there is nothing to make invalid.
        if (path, mode) != ("/health", GenerationMode.NEGATIVE)
    ],
)
def test_no_input_makes_a_server_error(
    api_schema: schemathesis.BaseSchema,
    http: requests.Session,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        # Every request crosses HTTP, and negative mode filters many draws: both are expected.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: schemathesis.Case) -> None:
        # With the token every endpoint does its real work; without it, writes fail as 4xx.
        case.call_and_validate(
            session=http,
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=[not_a_server_error],
        )
        response = case.call_and_validate(session=http, checks=[not_a_server_error])
        if path in WRITES:
            assert response.status_code >= 400, f"{path} accepted a write without the token"

    check()
