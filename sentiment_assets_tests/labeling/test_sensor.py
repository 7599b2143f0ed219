"""new_posts_sensor: cursor transitions, run keys, and a failed run retried on a real instance."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from sentiment_assets.defs.labeling.assets import labeled_chunks, raw_chunks
from sentiment_assets.defs.labeling.resources import LlmResource
from sentiment_assets.defs.labeling.sensors import (
    build_new_posts_sensor,
    labeling_job,
    new_posts_sensor,
)
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets_tests.labeling import keyword_model
from sentiment_assets_tests.labeling.conftest import add_raw_posts


def evaluate(
    lakehouse: Lakehouse,
    cursor: str | None,
    instance: dg.DagsterInstance | None = None,
    sensor: dg.SensorDefinition = new_posts_sensor,
) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
    context = dg.build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources={"lakehouse": LakehouseResource(path=str(lakehouse.root))},
    )
    result = sensor(context)
    assert isinstance(result, dg.RunRequest | dg.SkipReason)
    return result, context.cursor


def labeling_definitions() -> dg.Definitions:
    """The labeling job as deployed, bound to the test's lakehouse and models (environment)."""
    return dg.Definitions(
        assets=[raw_chunks, labeled_chunks],
        jobs=[labeling_job],
        sensors=[new_posts_sensor],
        resources={
            "lakehouse": LakehouseResource(),
            "llm": LlmResource(
                provider="weak", weak_loader=keyword_model.LOADER, track_usage=False
            ),
        },
        executor=dg.in_process_executor,
    )


def reconstructable_labeling_job() -> dg.JobDefinition:
    return labeling_definitions().resolve_job_def("labeling_job")


def test_skips_until_1000_posts_wait_then_requests_one_run_per_chunk(lakehouse: Lakehouse) -> None:
    skip, cursor = evaluate(lakehouse, None)
    assert isinstance(skip, dg.SkipReason) and "no lakehouse" in (skip.skip_message or "")
    add_raw_posts(lakehouse, 999)
    skip, cursor = evaluate(lakehouse, cursor)
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message == "999 posts wait for a chunk, fewer than 1000"
    assert cursor is None

    add_raw_posts(lakehouse, 1, start=1000)
    request, cursor = evaluate(lakehouse, cursor)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "chunk-through-2294-1000"
    assert request.run_config == {
        "ops": {"raw_chunks": {"config": {"threshold": 1000, "flush": False}}}
    }
    assert json.loads(cursor or "") == {
        "board_id": 2294,
        "post_id": 1000,
        "run_key": "chunk-through-2294-1000",
    }
    # Same data, evaluated again before the run froze the chunk: no second request.
    again, same_cursor = evaluate(lakehouse, cursor)
    assert isinstance(again, dg.SkipReason) and "already requested" in (again.skip_message or "")
    assert same_cursor == cursor
    # Even from a lost cursor the request is the same run key, which Dagster de-duplicates.
    lost, _ = evaluate(lakehouse, None)
    assert isinstance(lost, dg.RunRequest) and lost.run_key == request.run_key

    dg.materialize(
        [raw_chunks],
        resources={"lakehouse": LakehouseResource(path=str(lakehouse.root))},
        run_config=request.run_config,
    )
    add_raw_posts(lakehouse, 5, start=1001)
    frozen, cursor = evaluate(lakehouse, cursor)
    assert isinstance(frozen, dg.SkipReason)
    assert frozen.skip_message == (
        "5 posts wait for a chunk, fewer than 1000; last chunk requested: chunk-through-2294-1000"
    )
    add_raw_posts(lakehouse, 995, start=1006)
    second, cursor = evaluate(lakehouse, cursor)
    assert isinstance(second, dg.RunRequest) and second.run_key == "chunk-through-2294-2000"


def test_a_bad_cursor_is_a_clear_error(lakehouse: Lakehouse) -> None:
    add_raw_posts(lakehouse, 1)
    with pytest.raises(ValueError, match="cursor is not valid JSON state"):
        evaluate(lakehouse, "not json")


def test_a_failed_run_is_retried_from_failure_and_the_sensor_asks_for_nothing_new(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    # A 10-post threshold keeps this test small; the 1,000-post trigger is tested above.
    sensor = build_new_posts_sensor(10, name="small_new_posts_sensor")
    add_raw_posts(lakehouse, 10)
    job = reconstructable_labeling_job()
    with dg.instance_for_test() as instance:
        request, cursor = evaluate(lakehouse, None, instance, sensor)
        assert isinstance(request, dg.RunRequest) and request.run_key
        # No ensemble trained yet: the weak labeler cannot run, so the run fails.
        failed = job.execute_in_process(
            instance=instance,
            run_config=request.run_config,
            tags={**request.tags, "dagster/run_key": request.run_key},
            raise_on_error=False,
        )
        assert not failed.success
        run = instance.get_run_by_id(failed.run_id)
        assert run is not None and run.tags["dagster/run_key"] == "chunk-through-2294-10"
        # The chunk was frozen before the failure, so the sensor has nothing new to ask for.
        skip, _ = evaluate(lakehouse, cursor, instance, sensor)
        assert isinstance(skip, dg.SkipReason)
        assert (skip.skip_message or "").startswith("0 posts wait")

        keyword_model.install(tmp_path / "models")  # SENTIMENT_MODELS of the fixture
        options = dg.ReexecutionOptions.from_failure(failed.run_id, instance)
        with dg.execute_job(
            dg.reconstructable(reconstructable_labeling_job),
            instance=instance,
            reexecution_options=options,
        ) as retried:
            assert retried.success
            steps = {e.step_key for e in retried.all_events if e.is_step_success}
            # raw_chunks is not frozen twice; the posts read before the failure are reused.
            assert steps == {"labeled_chunks.llm_answers", "labeled_chunks.stored_attempts"}
    with lakehouse.session() as lake:
        counts = lake.query(
            "select (select count(*) from lake.raw_chunks) as chunked, "
            "(select count(*) from lake.labeled_chunks where status = 'ok') as labeled"
        )
    assert counts.to_dict("records") == [{"chunked": 10, "labeled": 10}]
