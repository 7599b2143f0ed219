"""The fault table: kill every writer at each of its write points, break the servers, race.

Each row is one fault, injected into the real code running in a process of its own
(`bench/faults/worker.py` wraps the function that writes, in that process only, and SIGKILLs
itself there), against real local servers (the replay site, the fake LLM server) and a real
DuckLake lakehouse. After the fault the same step is simply run again, as a schedule or a run
retry would, and the rows it should have stored are counted:

- expected: what a run without any fault stores (every post and comment the site shows, every
  chunked post labeled, every correction in the store, every gated version registered);
- found: distinct rows stored; lost = expected - found;
- duplicated: rows stored more than once (the same key twice).

The table in BENCHMARKS.md is the proof that nothing is lost and nothing is stored twice: every
row must read 0 and 0. The script fails (exit 1) when one does not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import save
from bench.faults.worker import POINTS
from sentiment_assets.lib.crawl.replay.corpus import SiteClock, SyntheticCorpus
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer
from sentiment_assets.lib.lakehouse import Lakehouse

ROOT = Path(__file__).resolve().parent.parent
BOARDS = (2294, 2295)
SITE_START = datetime(2026, 3, 2, 21, 0)
WORKER_TIMEOUT_S = 600


@dataclass
class Row:
    """One line of the fault table."""

    component: str
    fault: str
    rows: str
    expected: int
    found: int
    duplicated: int
    reruns: int

    @property
    def lost(self) -> int:
        """Rows a fault-free run stores that are missing."""
        return self.expected - self.found

    def record(self) -> dict[str, Any]:
        """As a table row."""
        return {
            "component": self.component,
            "fault injected": self.fault,
            "rows counted": self.rows,
            "expected": self.expected,
            "found": self.found,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "reruns": self.reruns,
        }


class Bench:
    """Fresh folders per scenario and the worker processes."""

    def __init__(self, tmp: Path):
        """Work under `tmp`; every worker gets its own salt file there."""
        self.tmp = tmp
        self.env = {
            **os.environ,
            "SENTIMENT_AUTHOR_SALT_FILE": str(tmp / "secrets" / "author_salt"),
            "PYTHONPATH": str(ROOT),
        }
        self.count = 0

    def fresh(self) -> tuple[Path, Path]:
        """A new (warehouse, models) pair."""
        self.count += 1
        base = self.tmp / f"s{self.count:02d}"
        return base / "warehouse", base / "models"

    def start(self, job: str, kill_at: str, warehouse: Path, models: Path, extra: str = ""):
        """Start a worker; returns the process."""
        env = {
            **self.env,
            "SENTIMENT_WAREHOUSE": str(warehouse),
            "SENTIMENT_MODELS": str(models),
            "DAGSTER_HOME": str(warehouse.parent / "dagster_home"),
        }
        argv = [sys.executable, "-m", "bench.faults.worker", job, kill_at, str(warehouse)]
        return subprocess.Popen(
            [*argv, str(models), extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, job: str, kill_at: str, warehouse: Path, models: Path, extra: str = "") -> None:
        """Run a worker to its end, or to its kill when `kill_at` is a write point."""
        proc = self.start(job, kill_at, warehouse, models, extra)
        out, err = proc.communicate(timeout=WORKER_TIMEOUT_S)
        killed = proc.returncode == -9
        if kill_at != "none" and not killed:
            raise RuntimeError(
                f"{job} never reached {kill_at} (rc {proc.returncode}): {err[-2000:]}"
            )
        if kill_at == "none" and (proc.returncode != 0 or "done" not in out):
            raise RuntimeError(f"{job} failed (rc {proc.returncode}): {err[-3000:]}")


def _site(faults: Callable[[ReplayRequest], ReplayResponse | None] | None = None):
    corpus = SyntheticCorpus(start=SITE_START, initial_posts=90, new_post_every_s=60)
    site = SyntheticSite(corpus, SiteClock(SITE_START, speed=0.0), page_size=10)
    return site, ReplayServer(site, intercept=faults)


def _crawl_counts(site: SyntheticSite, warehouse: Path) -> tuple[int, int, int]:
    """(expected, found distinct, duplicated) over raw_posts + raw_comments."""
    posts = {(b, p.post_id) for b in BOARDS for p in site.visible(b)}
    comments = {
        (b, p.post_id, c.comment_id) for b in BOARDS for p in site.visible(b) for c in p.comments
    }
    with Lakehouse(warehouse).session() as lake:
        stored_posts = lake.query("select board_id, post_id from lake.raw_posts")
        stored_comments = lake.query("select board_id, post_id, comment_id from lake.raw_comments")
    found_posts = {tuple(map(int, r)) for r in stored_posts.itertuples(index=False)} & posts
    found_comments = {
        tuple(map(int, r)) for r in stored_comments.itertuples(index=False)
    } & comments
    duplicated = (len(stored_posts) - len(stored_posts.drop_duplicates())) + (
        len(stored_comments) - len(stored_comments.drop_duplicates())
    )
    return len(posts) + len(comments), len(found_posts) + len(found_comments), duplicated


def crawl_killed(bench: Bench, point: str) -> Row:
    """Kill the crawler at `point`, then crawl again."""
    site, server = _site()
    warehouse, models = bench.fresh()
    with server:
        bench.run("crawl", point, warehouse, models, server.base_url)
        bench.run("crawl", "none", warehouse, models, server.base_url)
        expected, found, duplicated = _crawl_counts(site, warehouse)
    return Row("crawler", f"SIGKILL {point.replace('-', ' ')}", "posts + comments", expected,
               found, duplicated, 1)  # fmt: skip


def crawl_server_errors(bench: Bench) -> Row:
    """5xx, timeouts and pages cut short on a fifth of the articles, comments failing too."""
    state = {"down": True}

    def faults(request: ReplayRequest) -> ReplayResponse | None:
        article = re.match(r"^/board/maple/\d+/(\d+)$", request.path)
        post = int(article.group(1)) if article else int(request.form.get("articlecode") or 0)
        if not post or post % 5:
            return None
        kind = (post // 5) % 4
        if request.method == "POST":
            return ReplayResponse(502, b"bad gateway") if state["down"] else None
        if kind == 0 and state["down"]:
            return ReplayResponse(503, b"<html>busy</html>")  # down for two whole runs
        if kind == 1 and request.seen == 1:
            return ReplayResponse(200, b"", delay_s=3.0)  # one timeout
        if kind == 2 and request.seen <= 3:
            page = site.article(int(request.path.split("/")[3]), post)
            body = page.body if page else b""
            return ReplayResponse(200, body[: len(body) // 2])  # cut short three times
        return None

    site, server = _site(faults)
    warehouse, models = bench.fresh()
    with server:
        bench.run("crawl", "none", warehouse, models, server.base_url)
        bench.run("crawl", "none", warehouse, models, server.base_url)
        state["down"] = False
        bench.run("crawl", "none", warehouse, models, server.base_url)
        expected, found, duplicated = _crawl_counts(site, warehouse)
    return Row("crawler", "5xx for two runs, timeouts, pages cut short, comments 502",
               "posts + comments", expected, found, duplicated, 2)  # fmt: skip


def crawl_race(bench: Bench) -> Row:
    """Two crawls of the same boards into one lakehouse at once (a hand run beside the schedule)."""
    site, server = _site()
    warehouse, models = bench.fresh()
    with server:
        Lakehouse(warehouse).current_snapshot_id()  # the catalog exists before the race
        procs = [bench.start("crawl", "none", warehouse, models, server.base_url) for _ in "ab"]
        for proc in procs:
            _out, err = proc.communicate(timeout=WORKER_TIMEOUT_S)
            if proc.returncode != 0:
                raise RuntimeError(f"racing crawl failed: {err[-3000:]}")
        expected, found, duplicated = _crawl_counts(site, warehouse)
    return Row("crawler", "two crawls of the same boards at once", "posts + comments",
               expected, found, duplicated, 0)  # fmt: skip


def _chunked_lake(bench: Bench) -> tuple[Path, Path, int]:
    """A lakehouse with crawled posts frozen into chunks; (warehouse, models, chunked posts)."""
    from sentiment_assets.lib.labeling.chunks import freeze_chunks

    _site_unused, server = _site()
    warehouse, models = bench.fresh()
    with server:
        bench.run("crawl", "none", warehouse, models, server.base_url)
    with Lakehouse(warehouse).session() as lake:
        chunks = freeze_chunks(lake, threshold=1000, flush=True)
    return warehouse, models, sum(c.size for c in chunks)


def _label_counts(warehouse: Path, expected: int) -> tuple[int, int, int]:
    with Lakehouse(warehouse).session() as lake:
        ok = lake.query(
            "select board_id, post_id, count(*) as n from lake.labeled_chunks "
            "where status = 'ok' group by all"
        )
    return expected, len(ok), int((ok["n"] - 1).clip(lower=0).sum())


def label_killed(bench: Bench, point: str) -> Row:
    """Kill the labeling run at `point`, then run it again."""
    warehouse, models, chunked = _chunked_lake(bench)
    with FakeLlmServer("openai") as llm:
        bench.run("label", point, warehouse, models, llm.base_url)
        bench.run("label", "none", warehouse, models, llm.base_url)
    expected, found, duplicated = _label_counts(warehouse, chunked)
    return Row("labeling", f"SIGKILL {point.replace('-', ' ')}", "posts with an ok label",
               expected, found, duplicated, 1)  # fmt: skip


def label_server_errors(bench: Bench) -> Row:
    """The LLM server answers 503 and 429 to ten requests in a row (retries run out)."""
    warehouse, models, chunked = _chunked_lake(bench)
    with FakeLlmServer("openai") as llm:
        llm.model.queue(*(("server_error", "rate_limit") * 5))
        bench.run("label", "none", warehouse, models, llm.base_url)
        bench.run("label", "none", warehouse, models, llm.base_url)
    expected, found, duplicated = _label_counts(warehouse, chunked)
    return Row("labeling", "LLM server: 503 and 429 on ten requests in a row",
               "posts with an ok label", expected, found, duplicated, 1)  # fmt: skip


def label_broken_answers(bench: Bench) -> Row:
    """Answers that are no use: broken JSON, prose, labels outside the set, ids missing or extra."""
    warehouse, models, chunked = _chunked_lake(bench)
    with FakeLlmServer("openai") as llm:
        llm.model.queue("malformed", "prose", "bad_label", "bad_confidence", "missing", "extra")
        bench.run("label", "none", warehouse, models, llm.base_url)
    expected, found, duplicated = _label_counts(warehouse, chunked)
    return Row("labeling", "LLM answers: broken JSON, prose, off-schema labels, ids missing/extra",
               "posts with an ok label", expected, found, duplicated, 0)  # fmt: skip


def _store(warehouse: Path, n: int) -> None:
    from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore

    store = FeedbackStore(warehouse / "feedback.sqlite")
    try:
        for i in range(n):
            store.add(FeedbackInput(new_label="부정" if i % 2 else "긍정", reviewer="bench",
                                    idempotency_key=f"k{i}", text=f"문장 {i}"))  # fmt: skip
    finally:
        store.close()


def ingest_killed(bench: Bench, point: str) -> Row:
    """Kill the feedback ingest at `point` (with new corrections arriving), then run it again."""
    warehouse, models = bench.fresh()
    _store(warehouse, 30)
    bench.run("ingest", "none", warehouse, models)
    _store(warehouse, 60)  # 30 more since the last ingest
    bench.run("ingest", point, warehouse, models)
    bench.run("ingest", "none", warehouse, models)
    with Lakehouse(warehouse).session() as lake:
        rows = lake.query("select feedback_id from lake.feedback")
    found = rows["feedback_id"].nunique()
    return Row("feedback ingest", f"SIGKILL {point.replace('-', ' ')}", "corrections", 60,
               int(found), len(rows) - int(found), 1)  # fmt: skip


def _seed_base_corpus(warehouse: Path) -> None:
    from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, load_corpus
    from sentiment_assets.rehearsal.champion import seed_base_corpus

    frame = load_corpus(str(SHARED_NSMC), CorpusSample(train=1_500, evaluation=400))
    seed_base_corpus(Lakehouse(warehouse), frame)


def promote_killed(bench: Bench, point: str) -> Row:
    """Kill a training run at `point` of registering and promoting, then train again."""
    from sentiment_assets.lib.registry import load_champion
    from sentiment_assets.lib.registry.store import CHAMPION, ModelRegistry

    warehouse, models = bench.fresh()
    _seed_base_corpus(warehouse)
    bench.run("promote", "none", warehouse, models)
    bench.run("promote", point, warehouse, models)
    bench.run("promote", "none", warehouse, models)
    registry = ModelRegistry(models)
    versions = registry.versions()
    names = [v.version for v in versions]
    # Every run that got as far as registering left a version; the killed one did not if it
    # died before registering. The champion must be the last run's and load.
    expected = 2 if point == "before-register" else 3
    found = sum(1 for v in versions if v.path.is_dir())
    champion = registry.alias(CHAMPION)
    loads = champion is not None and load_champion(models).version == champion.version
    if not loads or champion is None or champion.number != versions[-1].number:
        found -= 1  # a champion that does not load is a lost row
    return Row("promotion", f"SIGKILL {point.replace('-', ' ')}", "registered versions",
               expected, found, len(names) - len(set(names)), 1)  # fmt: skip


def append_race(bench: Bench) -> Row:
    """Three processes append overlapping keyed batches at the same moment."""
    import random

    warehouse, models = bench.fresh()
    Lakehouse(warehouse).append(
        "race", pd.DataFrame({"id": [-1], "writer": [-1], "batch": [-1]}), key=("id",)
    )
    procs = [bench.start("append", "none", warehouse, models, str(seed)) for seed in range(3)]
    for proc in procs:
        _out, err = proc.communicate(timeout=WORKER_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"racing writer failed: {err[-3000:]}")
    offered = set()
    for seed in range(3):
        rng = random.Random(seed)
        for _ in range(10):
            offered |= set(rng.sample(range(200), 30))
    with Lakehouse(warehouse).session() as lake:
        rows = lake.query("select id from lake.race where id >= 0")
    found = rows["id"].nunique()
    return Row("lakehouse", "three writers appending the same keys at once", "keys",
               len(offered), int(found), len(rows) - int(found), 0)  # fmt: skip


def main() -> int:
    """Run every fault, save the table, exit 1 if any row lost or duplicated a row."""
    from sentiment_assets.lib.corpus.load import SHARED_NSMC

    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        bench = Bench(Path(tmp))
        steps: list[Callable[[], Row]] = [
            *(lambda p=p: crawl_killed(bench, p) for p in POINTS["crawl"]),
            lambda: crawl_server_errors(bench),
            lambda: crawl_race(bench),
            *(lambda p=p: label_killed(bench, p) for p in POINTS["label"]),
            lambda: label_server_errors(bench),
            lambda: label_broken_answers(bench),
            *(lambda p=p: ingest_killed(bench, p) for p in POINTS["ingest"]),
            lambda: append_race(bench),
        ]
        if SHARED_NSMC.is_file():
            steps += [lambda p=p: promote_killed(bench, p) for p in POINTS["promote"]]
        for step in steps:
            row = step()
            print(json_line(row), flush=True)
            rows.append(row)
    bad = [r for r in rows if r.lost or r.duplicated]
    figures = {
        "faults_tried": len(rows),
        "rows_lost": sum(r.lost for r in rows),
        "rows_duplicated": sum(r.duplicated for r in rows),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "promotion_rows": "included" if SHARED_NSMC.is_file() else "skipped: no NSMC data",
    }
    save(
        "bench_faults",
        figures,
        {"what": "a fault-free run of each step: the expected column"},
        f"{len(rows)} faults injected into real runs (SIGKILL at each write point of the "
        "crawler, labeling, feedback ingest and promotion; failing and slow servers; concurrent "
        f"writers); {figures['rows_lost']} rows lost and {figures['rows_duplicated']} "
        "duplicated after the step ran again.",
        table=[r.record() for r in rows],
    )
    return 1 if bad else 0


def json_line(row: Row) -> str:
    """One progress line."""
    import json

    return json.dumps(row.record(), ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
