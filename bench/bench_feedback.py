"""Feedback under load: 50 concurrent clients against the API while the lakehouse is written.

`sentiment serve` runs as its own process on 127.0.0.1; 50 asyncio clients send 2,000
corrections, 10% of them retried with the same idempotency key, while another process appends
to the lakehouse in a loop (a pipeline run's writes). Checked: every correction stored exactly
once. Baselines in the same run: one sequential client against the same server, and the seed's
approach — appending rows to a CSV file under a lock, which has no idempotency, so every retry
becomes a duplicate row.
"""

from __future__ import annotations

import asyncio
import csv
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from bench.common import WORK, save
from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
from sentiment_assets.lib.lakehouse import Lakehouse

ROWS = 2_000
CLIENTS = 50
RETRY_SHARE = 0.10
SEQUENTIAL_ROWS = 200
REVIEWER = "bench"
LABELS = ("부정", "중립", "긍정")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lake_writer(root: str, stop: Any, commits: Any) -> None:
    lake = Lakehouse(Path(root))
    batch = 0
    with lake.session() as session:
        while not stop.is_set():
            ids = range(batch * 500, (batch + 1) * 500)
            frame = pd.DataFrame({"id": list(ids), "payload": "x" * 200})
            session.append("pipeline_rows", frame, key=("id",))
            batch += 1
            with commits.get_lock():
                commits.value += 1


def _body(n: int) -> dict[str, object]:
    return {
        "text": f"부하 시험 문장 {n}",
        "new_label": LABELS[n % 3],
        "idempotency_key": f"bench-{n}",
    }


transport_retries: list[int] = []


async def _send_all(url: str, token: str, numbers: list[int]) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    codes: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in numbers:
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=CLIENTS)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120, headers=headers) as c:

        async def client() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                t0 = time.perf_counter()
                response = None
                for attempt in range(4):
                    # A keep-alive connection the server just closed: resend under the same
                    # key, as a real client would; the store keeps one row.
                    try:
                        response = await c.post("/feedback", json=_body(n))
                        break
                    except httpx.TransportError:
                        transport_retries.append(n)
                        if attempt == 3:
                            raise
                latencies.append(time.perf_counter() - t0)
                codes.append(response.status_code if response is not None else 0)

        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, codes


def _csv_baseline(path: Path, numbers: list[int]) -> tuple[list[float], int]:
    lock = threading.Lock()
    latencies: list[float] = []

    def append(n: int) -> None:
        t0 = time.perf_counter()
        with lock, path.open("a", newline="") as handle:
            body = _body(n)
            reviewer = f"client-{n % CLIENTS}"
            csv.writer(handle).writerow([body["text"], body["new_label"], reviewer])
        latencies.append(time.perf_counter() - t0)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(append, numbers))
    with path.open() as handle:
        return latencies, sum(1 for _ in handle)


def _ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    """Measure and save."""
    work = WORK / "feedback"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = work / "warehouse"
    port = _free_port()
    # Writes need a reviewer's own token (README: People in the loop); the store keeps its digest.
    token = FeedbackStore(default_path(warehouse)).create_reviewer(REVIEWER)
    env = os.environ | {
        "SENTIMENT_WAREHOUSE": str(warehouse),
        "SENTIMENT_MODELS": str(work / "models"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "sentiment_assets.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    stop = multiprocessing.Event()
    commits = multiprocessing.Value("i", 0)
    writer = multiprocessing.Process(target=_lake_writer, args=(str(warehouse), stop, commits))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("sentiment serve did not come up")
            time.sleep(0.2)

        rng = np.random.default_rng(7)
        numbers = list(range(ROWS))
        retried = rng.choice(ROWS, int(ROWS * RETRY_SHARE), replace=False).tolist()
        requests = numbers + retried
        rng.shuffle(requests)

        writer.start()
        t0 = time.perf_counter()
        latencies, codes = asyncio.run(_send_all(url, token, requests))
        wall = time.perf_counter() - t0
        lake_commits = commits.value

        store = FeedbackStore(default_path(warehouse))
        keys = [r.idempotency_key for r in store.rows_after(0)]
        exactly_once = len(keys) == ROWS and set(keys) == {f"bench-{n}" for n in numbers}
        if not exactly_once or any(c not in (200, 201) for c in codes):
            raise AssertionError(f"{len(keys)} rows stored, status codes {set(codes)}")

        t0 = time.perf_counter()
        sequential, _ = asyncio.run(_send_sequential(url, token))
        sequential_wall = time.perf_counter() - t0
    finally:
        stop.set()
        if writer.pid is not None:
            writer.join(timeout=60)
        server.terminate()
        server.wait(timeout=30)

    csv_latencies, csv_rows = _csv_baseline(work / "feedback.csv", requests)
    save(
        "bench_feedback",
        figures={
            "requests": len(requests),
            "unique_rows": ROWS,
            "retried_requests": len(retried),
            "concurrent_clients": CLIENTS,
            "rows_stored": len(keys),
            "stored_exactly_once": exactly_once,
            "lake_commits_during_load": lake_commits,
            "transport_error_resends": len(transport_retries),
            "api_p50_ms": _ms(latencies, 50),
            "api_p95_ms": _ms(latencies, 95),
            "api_p99_ms": _ms(latencies, 99),
            "api_requests_per_s": len(requests) / wall,
        },
        baseline={
            "single_client_p50_ms": _ms(sequential, 50),
            "single_client_p95_ms": _ms(sequential, 95),
            "single_client_requests_per_s": SEQUENTIAL_ROWS / sequential_wall,
            "seed_csv_under_lock_p50_ms": _ms(csv_latencies, 50),
            "seed_csv_under_lock_p95_ms": _ms(csv_latencies, 95),
            "seed_csv_rows_for_2000_corrections": csv_rows,
        },
        summary=(
            f"{CLIENTS} concurrent clients send {ROWS:,} corrections to `sentiment serve` "
            f"(+{int(ROWS * RETRY_SHARE)} retries with the same idempotency key) while another "
            "process commits to the lakehouse in a loop; every correction is stored exactly "
            "once in the SQLite (WAL, synchronous=FULL) feedback store. Baselines: one sequential "
            "client on the same server, and the seed's CSV append under a lock (no idempotency: "
            "each retry is a duplicate row)."
        ),
    )


async def _send_sequential(url: str, token: str) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    codes: list[int] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as c:
        for n in range(ROWS, ROWS + SEQUENTIAL_ROWS):
            t0 = time.perf_counter()
            response = await c.post("/feedback", json=_body(n))
            latencies.append(time.perf_counter() - t0)
            codes.append(response.status_code)
    return latencies, codes


if __name__ == "__main__":
    main()
