"""The whole self-improving loop on a real Dagster daemon, unattended, with tiny models.

Replay site -> `sentiment crawl` -> new_posts_sensor (1,000 posts) -> labeling_job ->
100 reviews (accepts and corrections) through the HTTP API -> feedback_sensor -> retraining_job
(refine, retrain, gate, champion's scores, marts) -> marts show the new champion ->
`sentiment rollback` + marts_job -> marts show the old champion again.

Assertions are on the marts export, the registry and the Dagster instance, never on log lines.
Nothing is switched on by hand: the sensors run because they run by default. Every wait is
bounded; the daemon and its runs are stopped whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.lib.registry import CHAMPION, ModelRegistry
from sentiment_assets.rehearsal.deployment import LoopDeployment
from sentiment_assets.rehearsal.scenario import (
    PER_VERSION_MARTS,
    marts_versions,
    prediction_marts,
    prepare,
    review,
)

pytestmark = pytest.mark.slow

REVIEWS = 100


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[LoopDeployment]:
    deployment = LoopDeployment(tmp_path)
    try:
        yield deployment
    finally:
        deployment.stop_daemon()


@pytest.mark.timeout(600)
def test_the_loop_closes_unattended_on_a_real_daemon(deployment: LoopDeployment) -> None:
    d = deployment
    registry = ModelRegistry(d.models)
    first, crawled = prepare(d)
    assert crawled >= 1_000

    d.start_daemon()
    # 1,000 waiting posts: new_posts_sensor starts labeling_job, which labels, scores, refines,
    # retrains, gates and rebuilds the marts.
    labeling = d.wait_for_run("labeling_job", timeout_s=240)
    assert labeling.tags.get("dagster/sensor_name") == "new_posts_sensor"
    old = registry.alias(CHAMPION)
    assert old is not None and old.number >= first.number
    marts_file = d.warehouse / "marts.duckdb"
    before = prediction_marts(marts_file)
    assert marts_versions(before) == {old.version}
    (registered,) = before["serving_model"]["registry_version"].fillna(0).tolist()
    assert registered == old.number  # a registered champion, not a fallback

    reviews = review(d, REVIEWS)
    assert reviews.model_version == old.version
    assert all(feedback_id is not None for feedback_id in reviews.feedback_ids)  # accepts too
    assert 0 < reviews.decisions.count("accept") < REVIEWS  # both kinds count toward the 100

    # The 100th label: feedback_sensor starts retraining_job on its own, once.
    retraining = d.wait_for_run("retraining_job", timeout_s=240)
    assert retraining.tags.get("dagster/sensor_name") == "feedback_sensor"
    assert retraining.tags.get("feedback/rows") == str(REVIEWS)
    gate = d.materialization(retraining, "challenger_model")
    assert gate["retrained"] is True
    assert gate["training_mix"]["feedback"] > 0 and gate["gate_eval_parts"]["feedback"] > 0
    assert gate["gate_reason"]
    assert gate["promoted"] is True, f"the gate refused: {gate['gate_reason']}"
    new = registry.alias(CHAMPION)
    assert new is not None and new.number == gate["registry_version"] != old.number
    after = prediction_marts(marts_file)
    assert marts_versions(after) == {new.version}
    assert not after["sentiment_by_job_week"].equals(before["sentiment_by_job_week"])

    # Rollback, then the marts refresh: exactly the old champion's numbers, nothing of the new.
    rollback = d.cli("sentiment", "rollback")
    assert f"v{new.number}" in rollback.stdout and "marts_job" in rollback.stdout
    assert registry.aliases()[CHAMPION] == old.number
    d.cli("dagster", "job", "launch", "-j", "marts_job", "-w", str(d.workspace))
    d.wait_for_run("marts_job", timeout_s=180)
    restored = prediction_marts(marts_file)
    assert marts_versions(restored) == {old.version}
    assert set(restored) == set(before)
    for table, frame in restored.items():
        if table not in PER_VERSION_MARTS:
            pd.testing.assert_frame_equal(frame, before[table], obj=table)
    serving = restored["model_quality"].set_index("model_version")["is_serving"]
    assert serving.to_dict() == {v: v == old.version for v in serving.index}

    # Exactly one retraining: the sensor has ticked since the run ended and launched nothing.
    ended = d.run_end(retraining)
    d.wait(
        "a feedback_sensor tick after the retraining run",
        lambda: [t for t in d.sensor_ticks("feedback_sensor") if t.timestamp > ended] or None,
        timeout_s=60,
    )
    assert len(d.runs("retraining_job")) == 1
