"""/predict throughput and latency: one text per request against batches, with concurrent clients.

The champion's shape is trained first: all four members (lexicon, Keras LSTM, PyTorch BiLSTM,
BERT; BENCH_PREDICT_MEMBERS picks fewer) and their soft vote, registered as champion, on
BENCH_PREDICT_TRAIN_ROWS NSMC reviews for one epoch (speed does not depend on how well a member
was trained, but it does on which members vote: BERT costs most). `sentiment serve` then runs
as its own process on 127.0.0.1, serving the registry's champion, and asyncio clients
send NSMC test reviews, 1, 16 or 64 per request, from 1 and from 16 concurrent clients. Every
run gets reviews no earlier run saw, so each text is tokenized from cold (the morpheme cache
would otherwise flatter whichever run came later), and every response is checked (200, one
prediction per text). Baseline in the same run: the same ensemble
called in-process, one caller on a worker thread (as the server's thread pool calls it), the
same batches, no HTTP, so the difference is what serving costs (JSON, HTTP, and the clients
sharing the machine's cores). Training runs in a child process, so this one holds only the
loaded model, as a server does.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.common import WORK, save

BATCHES = (1, 16, 64)
CLIENTS = (1, 16)
REQUESTS = {1: 600, 16: 160, 64: 60}
"""Requests per (batch, clients) run: enough for a stable p95, a few seconds each."""
WARMUP_REQUESTS = 5
MAIN_THREAD_REQUESTS = 100
MEMBERS = os.environ.get("BENCH_PREDICT_MEMBERS", "lexicon,lstm,bilstm,bert").split(",")
TRAIN_ROWS = int(os.environ.get("BENCH_PREDICT_TRAIN_ROWS", "3000"))
TEST_TEXTS = 25_000
"""NSMC test reviews drawn; every measured run takes fresh ones (about 21,500 in all)."""
TOKEN = "bench-token"
ROOT = WORK / "predict"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Fresh:
    """Hands out test texts, each once."""

    def __init__(self, texts: list[str]):
        self._texts = texts
        self._at = 0

    def batches(self, size: int, count: int) -> list[list[str]]:
        """`count` batches of `size` texts no earlier call handed out."""
        need = size * count
        if self._at + need > len(self._texts):
            raise RuntimeError(f"out of fresh test texts: raise TEST_TEXTS ({len(self._texts)})")
        chunk = self._texts[self._at : self._at + need]
        self._at += need
        return [chunk[i : i + size] for i in range(0, need, size)]


def _prepare(models: Path) -> tuple[list[str], list[str]]:
    """Train the members and the ensemble into `models`; (members used, test texts)."""
    from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, labeled, load_corpus
    from sentiment_assets.lib.models.base import TrainSettings
    from sentiment_assets.lib.models.members import available_members
    from sentiment_assets.lib.models.pipeline import build_ensemble, train_member

    present = available_members()
    missing = [m for m in MEMBERS if m not in present]
    if missing:
        raise SystemExit(f"members {missing} are not available here; present: {list(present)}")
    frame = load_corpus(str(SHARED_NSMC), CorpusSample(train=TRAIN_ROWS, evaluation=1_000))
    train, dev = labeled(frame, "train"), labeled(frame, "dev")
    uri = f"sqlite:///{models / 'mlflow.db'}"
    models.mkdir(parents=True, exist_ok=True)
    for name in MEMBERS:
        train_member(
            present[name],
            train,
            dev,
            TrainSettings(epochs=1, device="cpu"),
            models_root=models,
            tracking_uri=uri,
            snapshot_id=None,
        )
    _, saved = build_ensemble(
        dev, models_root=models, tracking_uri=uri, snapshot_id=None, names=MEMBERS
    )
    # Served the way production serves: as the registry's champion.
    from sentiment_assets.lib.registry import ModelRegistry

    registry = ModelRegistry(models)
    version = registry.register(saved.path.name, run_id=None, tags={"bench": "bench_predict"})
    registry.promote(version.number, reason="bench_predict: the four-member champion")
    test = load_corpus(str(SHARED_NSMC), CorpusSample(train=0, evaluation=TEST_TEXTS))
    # Unique texts only: a repeated review would hit the morpheme cache.
    texts = list(dict.fromkeys(t for t in test.loc[test["split"] == "test", "text"].astype(str)))
    return MEMBERS, [t for t in texts if t.strip()]


def _prepare_elsewhere(models: Path) -> tuple[list[str], list[str]]:
    """`_prepare` in a child process: this one then holds only the loaded model, as a server."""
    out = models.parent / "prepared.json"
    subprocess.run(
        [sys.executable, "-m", "bench.bench_predict", "--prepare", str(models), str(out)],
        check=True,
    )
    prepared = json.loads(out.read_text(encoding="utf-8"))
    return prepared["members"], prepared["texts"]


def _stats(latencies: list[float], wall: float, size: int) -> dict[str, float]:
    ms = np.array(latencies) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "texts_per_s": round(len(latencies) * size / wall, 1),
    }


def _in_worker_thread(work: Callable[[], Any]) -> Any:
    """Run `work` on a worker thread, as the server runs /predict (FastAPI's thread pool).

    Measured on 2026-12-06 with the four-member champion: one text predicted on a process's main
    thread took 94 ms at the median, on a worker thread of the same process 9.8 ms; the main
    thread's figure is reported beside the baseline (`inprocess_main_thread_b1_*`).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def _main_thread_b1(model: Any, texts: _Fresh) -> dict[str, float]:
    """One text at a time on the main thread, as `sentiment predict` and Dagster's in-process
    executor call the ensemble."""
    latencies = []
    started = time.perf_counter()
    for batch in texts.batches(1, MAIN_THREAD_REQUESTS):
        t0 = time.perf_counter()
        model.predict(batch)
        latencies.append(time.perf_counter() - t0)
    stats = _stats(latencies, time.perf_counter() - started, 1)
    return {f"inprocess_main_thread_b1_{k}": v for k, v in stats.items()}


def _in_process(model: Any, texts: _Fresh, size: int) -> dict[str, float]:
    """The ensemble called directly by one caller: the batches an HTTP run of `size` sends."""
    return _in_worker_thread(lambda: _in_process_here(model, texts, size))


def _in_process_here(model: Any, texts: _Fresh, size: int) -> dict[str, float]:
    for batch in texts.batches(size, WARMUP_REQUESTS):
        model.predict(batch)
    latencies = []
    started = time.perf_counter()
    for batch in texts.batches(size, REQUESTS[size]):
        t0 = time.perf_counter()
        model.predict(batch)
        latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    return {f"inprocess_b{size}_{k}": v for k, v in _stats(latencies, wall, size).items()}


async def _over_http(url: str, batches: list[list[str]], clients: int) -> tuple[list[float], float]:
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as c:

        async def client() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                t0 = time.perf_counter()
                response = await c.post("/predict", json={"texts": batch})
                latencies.append(time.perf_counter() - t0)
                predictions = response.json().get("predictions", [])
                if response.status_code != 200 or len(predictions) != len(batch):
                    raise AssertionError(f"/predict answered {response.status_code}: {response}")

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return latencies, time.perf_counter() - started


def _serve(models: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = os.environ | {
        "SENTIMENT_API_TOKEN": TOKEN,
        "SENTIMENT_WAREHOUSE": str(work / "warehouse"),
        "SENTIMENT_MODELS": str(models),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "sentiment_assets.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            health = httpx.get(f"{url}/health", timeout=2)
            if health.status_code == 200 and health.json()["model_version"]:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError(f"sentiment serve did not come up; see {work / 'server.log'}")
        time.sleep(0.5)


def _timed(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return result


def main() -> None:
    """Train, measure in-process and over HTTP, save."""
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    models = ROOT / "models"
    members, test_texts = _timed("train", lambda: _prepare_elsewhere(models))
    texts = _Fresh(test_texts)
    from sentiment_assets.lib.registry import load_champion

    model = load_champion(models)
    server, url = _timed("server start", lambda: _serve(models, ROOT))
    served = httpx.get(f"{url}/health", timeout=10).json()["model_version"]
    if served != model.version or sorted(model.members) != sorted(members):
        server.kill()
        raise RuntimeError(f"served {served}, expected the champion {model.version}")
    figures: dict[str, Any] = {
        "members": members,
        "served_champion_version": served,
        "train_rows": TRAIN_ROWS,
        "mean_chars": round(float(np.mean([len(t) for t in test_texts])), 1),
        "batch_sizes": list(BATCHES),
        "concurrent_clients": list(CLIENTS),
        "requests_per_run": {str(b): REQUESTS[b] for b in BATCHES},
        # The cores are shared: a high load average says the figures are noisier than usual.
        "load_average_1min_at_start": round(os.getloadavg()[0], 1),
    }
    baseline: dict[str, float] = _main_thread_b1(model, texts)
    try:
        # Baseline and HTTP runs of one batch size follow each other, so a change in the
        # machine's load between them is as small as it can be.
        for size in BATCHES:
            baseline |= _in_process(model, texts, size)
            for clients in CLIENTS:
                asyncio.run(_over_http(url, texts.batches(size, WARMUP_REQUESTS), 1))
                batches = texts.batches(size, REQUESTS[size])
                latencies, wall = asyncio.run(_over_http(url, batches, clients))
                for key, value in _stats(latencies, wall, size).items():
                    figures[f"http_b{size}_c{clients}_{key}"] = value
                print(f"b{size} c{clients}: {wall:.1f} s", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)

    best = max(BATCHES, key=lambda b: max(figures[f"http_b{b}_c{c}_texts_per_s"] for c in CLIENTS))
    figures["http_best_texts_per_s"] = max(
        figures[f"http_b{best}_c{c}_texts_per_s"] for c in CLIENTS
    )
    figures["batching_speedup_b64_vs_b1_c16"] = round(
        figures["http_b64_c16_texts_per_s"] / figures["http_b1_c16_texts_per_s"], 1
    )
    figures["http_share_of_inprocess_b1"] = round(
        figures["http_b1_c1_texts_per_s"] / baseline["inprocess_b1_texts_per_s"], 2
    )
    figures["http_share_of_inprocess_b64"] = round(
        figures["http_b64_c1_texts_per_s"] / baseline["inprocess_b64_texts_per_s"], 2
    )
    save(
        "bench_predict",
        figures=figures,
        baseline=baseline,
        summary=(
            f"POST /predict on `sentiment serve` (uvicorn, 127.0.0.1) serving the registry's "
            f"champion, a soft vote of {' + '.join(members)} (trained on {TRAIN_ROWS:,} NSMC "
            "reviews, one epoch), "
            f"{'/'.join(map(str, BATCHES))} NSMC test reviews per request from "
            f"{' and '.join(map(str, CLIENTS))} concurrent clients, clients on the same machine. "
            "Baseline: the same ensemble called in-process by one caller on a worker thread (as "
            "the server calls it), same batches, no HTTP; and one text at a time on the main "
            "thread, as `sentiment predict` calls it."
        ),
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        members, texts = _prepare(Path(sys.argv[2]))
        Path(sys.argv[3]).write_text(json.dumps({"members": members, "texts": texts}))
    else:
        main()
