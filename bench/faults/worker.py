"""One step of the pipeline in a process of its own, killed (SIGKILL) at a chosen write point.

    python -m bench.faults.worker JOB KILL_AT WAREHOUSE MODELS [ARG]

JOB is crawl, label, ingest, promote or append; KILL_AT names a write point (see `POINTS`) or
`none` to run to the end. The kill is injected by wrapping the function that does the write,
in this process only: the code under test is the production code, unchanged. A killed worker
dies with -9 and never reports; one that finishes prints `done`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

POINTS = {
    "crawl": ("before-commit", "after-commit", "before-cursor", "after-cursor"),
    "label": ("mid-llm", "before-write", "after-write"),
    "ingest": ("before-commit", "after-commit"),
    "promote": ("before-register", "before-alias", "after-alias"),
    "append": (),
}


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_around(owner: Any, name: str, *, before: bool, on_call: int = 1) -> None:
    """Replace `owner.name` so its `on_call`-th call is killed before or after it runs."""
    original: Callable[..., Any] = getattr(owner, name)
    calls = {"n": 0}
    lock = threading.Lock()

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # The labeler calls from several threads: each call keeps its own number.
        with lock:
            calls["n"] += 1
            number = calls["n"]
        if before and number == on_call:
            _die()
        result = original(*args, **kwargs)
        if not before and number == on_call:
            _die()
        return result

    setattr(owner, name, wrapped)


def crawl(kill_at: str, warehouse: Path, base_url: str) -> None:
    """Crawl two boards of the site at `base_url` into the lakehouse, committing every 5 posts."""
    from sentiment_assets.lib.crawl.run import CrawlOptions, crawl_into_lakehouse
    from sentiment_assets.lib.crawl.sinks import LakehouseSink
    from sentiment_assets.lib.lakehouse import Lakehouse
    from sentiment_assets.lib.lakehouse.lake import LakeSession

    if kill_at in ("before-commit", "after-commit"):
        # The third batch of the first board: two committed before it.
        _kill_around(LakeSession, "append_all", before=kill_at == "before-commit", on_call=3)
    elif kill_at in ("before-cursor", "after-cursor"):
        _kill_around(LakehouseSink, "save_cursor", before=kill_at == "before-cursor")
    options = CrawlOptions(
        base_url=base_url,
        boards="2294,2295",
        batch_size=5,
        comments=True,
        delay_s=0.0,
        timeout_s=2.0,
        max_retries=1,
        backoff_s=0.01,
    )
    crawl_into_lakehouse(options, Lakehouse(warehouse))


def label(kill_at: str, warehouse: Path, base_url: str) -> None:
    """Label every chunked post through the `labeled_chunks` asset, against the server."""
    import dagster as dg

    from sentiment_assets.defs.labeling import assets
    from sentiment_assets.defs.labeling.resources import LlmResource
    from sentiment_assets.defs.lakehouse.resources import LakehouseResource
    from sentiment_assets.lib.labeling.openai_compat import OpenAICompatProvider

    if kill_at == "mid-llm":
        _kill_around(OpenAICompatProvider, "send", before=False, on_call=2)
    elif kill_at in ("before-write", "after-write"):
        _kill_around(assets, "write_attempts", before=kill_at == "before-write")
    result = dg.materialize(
        [assets.labeled_chunks],
        resources={
            "lakehouse": LakehouseResource(path=str(warehouse)),
            "llm": LlmResource(
                provider="openai",
                base_url=base_url,
                model="fault-bench",
                batch_size=5,
                base_delay_s=0.01,
                max_retries=2,
                track_usage=False,
            ),
        },
        raise_on_error=False,
    )
    if not result.success:
        raise SystemExit("labeling run failed")


def ingest(kill_at: str, warehouse: Path) -> None:
    """Copy the feedback store into the lake through the `feedback` asset."""
    import dagster as dg

    from sentiment_assets.defs.feedback.assets import feedback
    from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
    from sentiment_assets.defs.lakehouse.resources import LakehouseResource
    from sentiment_assets.lib.lakehouse.lake import LakeSession

    if kill_at in ("before-commit", "after-commit"):
        _kill_around(LakeSession, "append", before=kill_at == "before-commit")
    result = dg.materialize(
        [feedback],
        resources={
            "lakehouse": LakehouseResource(path=str(warehouse)),
            "feedback_store": FeedbackStoreResource(path=str(warehouse / "feedback.sqlite")),
        },
    )
    if not result.success:
        raise SystemExit("ingest run failed")


def promote(kill_at: str, warehouse: Path, models: Path) -> None:
    """Train a lexicon ensemble on NSMC rows and put it through the real gate."""
    from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, labeled, load_corpus
    from sentiment_assets.lib.lakehouse import Lakehouse
    from sentiment_assets.lib.registry.store import ModelRegistry
    from sentiment_assets.rehearsal.champion import lexicon_champion

    if kill_at == "before-register":
        _kill_around(ModelRegistry, "register", before=True)
    elif kill_at in ("before-alias", "after-alias"):
        for name in ("promote", "keep_as_challenger"):
            _kill_around(ModelRegistry, name, before=kill_at == "before-alias")
    frame = load_corpus(str(SHARED_NSMC), CorpusSample(train=1_500, evaluation=400))
    train, dev = labeled(frame, "train"), labeled(frame, "dev")
    # margin -1: every version passes the gate, so each run moves the champion alias.
    lexicon_champion(Lakehouse(warehouse), models, train, dev, margin=-1.0)


def append(warehouse: Path, seed: str) -> None:
    """Append overlapping keyed batches (the race); every writer offers most keys."""
    import random

    import pandas as pd

    from sentiment_assets.lib.lakehouse import Lakehouse

    rng = random.Random(int(seed))
    with Lakehouse(warehouse).session() as session:
        for batch in range(10):
            ids = rng.sample(range(200), 30)
            frame = pd.DataFrame({"id": ids, "writer": int(seed), "batch": batch})
            session.append("race", frame, key=("id",))


def main(argv: list[str]) -> None:
    """Dispatch to JOB with its kill point."""
    job, kill_at, warehouse, models = argv[:4]
    extra = argv[4] if len(argv) > 4 else ""
    if kill_at != "none" and kill_at not in POINTS[job]:
        raise SystemExit(f"{job} has no write point {kill_at!r}: {POINTS[job]}")
    root = Path(warehouse)
    if job == "crawl":
        crawl(kill_at, root, extra)
    elif job == "label":
        label(kill_at, root, extra)
    elif job == "ingest":
        ingest(kill_at, root)
    elif job == "promote":
        promote(kill_at, root, Path(models))
    elif job == "append":
        append(root, extra)
    else:
        raise SystemExit(f"unknown job {job!r}")
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
