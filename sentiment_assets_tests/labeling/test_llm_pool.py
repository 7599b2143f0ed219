"""A slow LLM holds only the `llm_api` pool: the lake's other writers are not kept waiting.

Two real runs of one Dagster instance (its SQLite storage holds the pool slots): a labeling run
in another process whose LLM answer is held back, and a feedback ingest here. The ingest must
finish while the labeling run's LLM step is still waiting for its answer.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg

from sentiment_assets.defs.feedback.assets import feedback
from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore, default_path
from sentiment_assets.lib.labeling.chunks import freeze_chunks
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT, Paths, ensure_dagster_home
from sentiment_assets_tests.labeling.conftest import add_raw_posts

HELD_S = 60.0
"""How long the fake model keeps the labeling request; the ingest must be done long before."""


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_feedback_ingest_completes_while_a_slow_llm_labeling_step_is_in_flight(
    lakehouse: Lakehouse, warehouse: Path
) -> None:
    ensure_dagster_home(Paths.from_env())  # the project's dagster.yaml: every pool limit 1
    add_raw_posts(lakehouse, 12)
    with lakehouse.session() as session:
        freeze_chunks(session, threshold=1000, flush=True)
    store = FeedbackStore(default_path(warehouse))
    for n in range(5):
        store.add(FeedbackInput(new_label="부정", reviewer="alice", idempotency_key=f"k{n}",
                                text=f"문장 {n}"))  # fmt: skip
    store.close()

    release = threading.Event()
    with FakeLlmServer("openai") as server:
        server.model.hold = release
        server.model.hold_timeout_s = HELD_S
        labeling = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sentiment_assets_tests.labeling.labeling_run_worker",
                server.base_url,
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for(lambda: server.model.in_flight > 0, 120, "the labeling request")
            started = time.monotonic()
            with dg.DagsterInstance.get() as instance:
                ingest = dg.materialize(
                    [feedback],
                    instance=instance,
                    resources={
                        "lakehouse": LakehouseResource(),
                        "feedback_store": FeedbackStoreResource(),
                    },
                )
            took = time.monotonic() - started
            # The labeling step is still waiting for its answer: the ingest did not wait for it.
            assert ingest.success
            assert server.model.in_flight > 0 and not release.is_set(), (
                f"the ingest finished only after the LLM answered ({took:.1f} s)"
            )
        finally:
            release.set()
            out, err = labeling.communicate(timeout=180)
    assert labeling.returncode == 0 and out.strip() == "labeled", err[-3000:]
    with lakehouse.session() as session:
        counts = session.query(
            "select (select count(*) from lake.labeled_chunks where status = 'ok') as labeled, "
            "(select count(*) from lake.feedback) as ingested"
        )
    assert counts.to_dict("records") == [{"labeled": 12, "ingested": 5}]
