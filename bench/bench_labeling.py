"""LLM labeling throughput: ours (batched, concurrent, cached) vs the seed's loop, same run.

A local server speaking OpenAI chat-completions (`lib/labeling/fake_llm.py`) costs what a real
model costs: a fixed latency per request (prompt processing and the first token) plus a cost
per post in the request (the answer line it writes for each post). Batching saves only the
fixed part, so the comparison does not flatter it. The seed labeled one post per request,
sequentially, with a one-second sleep between posts; the baseline keeps its
one-post-per-request sequential loop but drops the sleep, so the comparison is about request
shape, not about the sleep. A second scenario makes each post five times as costly (a slower
model, longer rationales): batching gains less there, and the figures say how much. Finally
the same posts are labeled again to time a rerun served from the cache.
"""

from __future__ import annotations

import shutil
import time

import httpx

from bench.common import WORK, save
from sentiment_assets.lib.labeling.cache import LabelCache
from sentiment_assets.lib.labeling.costs import Price
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer
from sentiment_assets.lib.labeling.labeler import LabelerSettings, LlmLabeler
from sentiment_assets.lib.labeling.openai_compat import OpenAICompatProvider
from sentiment_assets.lib.labeling.prompt import build_request
from sentiment_assets.lib.labeling.records import PostToLabel
from sentiment_assets.lib.labeling.schema import check_answer

LATENCY_S = 0.3
"""Fixed cost of every request."""
PER_POST_S = 0.04
"""Cost of each post in a request."""
HEAVY_PER_POST_S = 0.2
"""Per-post cost of the second scenario."""
OURS_POSTS = 600
BASELINE_POSTS = 40
BATCH = 20
CONCURRENCY = 4
TEXTS = (
    "보스 보상 너프 진짜 최악",
    "22성 강화 성공 너무 행복",
    "아델 코어 순서 질문드립니다",
    "이번 이벤트 재밌네요 감사합니다",
    "버그 때문에 짜증나요",
    "사냥터 추천 부탁드려요",
)


def _posts(n: int, tag: str) -> list[PostToLabel]:
    return [PostToLabel(f"{tag}{i}", f"{TEXTS[i % len(TEXTS)]} ({tag} {i})") for i in range(n)]


def _seed_loop(base_url: str, posts: list[PostToLabel]) -> tuple[float, int]:
    """One post per request, one request after the other (the seed's shape, minus its sleep)."""
    labeled = 0
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for post in posts:
            request = build_request([post])
            response = client.post(
                "/chat/completions",
                json={
                    "model": "gemma-3-12b",
                    "messages": [
                        {"role": "system", "content": request.system},
                        {"role": "user", "content": request.user},
                    ],
                    "temperature": 0,
                },
            )
            text = response.json()["choices"][0]["message"]["content"]
            labeled += bool(check_answer(text, request.ids).valid)
    return time.perf_counter() - started, labeled


def _ours(base_url: str, posts: list[PostToLabel], cache: LabelCache) -> tuple[float, int, int]:
    labeler = LlmLabeler(
        OpenAICompatProvider(base_url=base_url, model="gemma-3-12b"),
        LabelerSettings(batch_size=BATCH, concurrency=CONCURRENCY),
        cache=cache,
        price=Price(0.0, 0.0),
    )
    started = time.perf_counter()
    result = labeler.label(posts)
    elapsed = time.perf_counter() - started
    return elapsed, result.summary.posts_labeled, result.summary.requests


def _scenario(per_post_s: float, tag: str) -> dict[str, float]:
    with FakeLlmServer("openai") as server:
        server.model.latency_s = LATENCY_S
        server.model.latency_per_post_s = per_post_s
        seed_s, seed_labeled = _seed_loop(server.base_url, _posts(BASELINE_POSTS, f"s{tag}"))
        assert seed_labeled == BASELINE_POSTS
        cache = LabelCache(WORK / "labeling" / f"cache-{tag}.sqlite")
        posts = _posts(OURS_POSTS, f"o{tag}")
        ours_s, ours_labeled, requests = _ours(server.base_url, posts, cache)
        assert ours_labeled == OURS_POSTS
        calls_before = len(server.model.seen)
        cached_s, cached_labeled, cached_requests = _ours(server.base_url, posts, cache)
        assert cached_labeled == OURS_POSTS and cached_requests == 0
        assert len(server.model.seen) == calls_before
        cache.close()
    ours_rate = OURS_POSTS / ours_s
    seed_rate = BASELINE_POSTS / seed_s
    return {
        "ours_posts_per_s": ours_rate,
        "ours_posts_per_min": ours_rate * 60,
        "ours_requests": requests,
        "seed_loop_posts_per_s": seed_rate,
        "seed_loop_posts_per_min": seed_rate * 60,
        "speedup": ours_rate / seed_rate,
        "cached_rerun_s": cached_s,
        "cached_rerun_posts_per_s": OURS_POSTS / cached_s,
    }


def main() -> None:
    """Measure both scenarios and save."""
    shutil.rmtree(WORK / "labeling", ignore_errors=True)
    (WORK / "labeling").mkdir(parents=True)
    main_run = _scenario(PER_POST_S, "main")
    heavy = _scenario(HEAVY_PER_POST_S, "heavy")
    figures = {
        "server_fixed_latency_ms": LATENCY_S * 1000,
        "server_per_post_ms": PER_POST_S * 1000,
        "posts_ours": OURS_POSTS,
        "batch_size": BATCH,
        "concurrency": CONCURRENCY,
        "posts_per_min_ours": main_run["ours_posts_per_min"],
        "speedup_vs_seed_loop": main_run["speedup"],
        "requests_ours": main_run["ours_requests"],
        "cached_rerun_s": main_run["cached_rerun_s"],
        "cached_rerun_posts_per_s": main_run["cached_rerun_posts_per_s"],
        "heavy_server_per_post_ms": HEAVY_PER_POST_S * 1000,
        "heavy_posts_per_min_ours": heavy["ours_posts_per_min"],
        "heavy_speedup_vs_seed_loop": heavy["speedup"],
    }
    baseline = {
        "posts_seed_loop": BASELINE_POSTS,
        "seed_loop_posts_per_min": main_run["seed_loop_posts_per_min"],
        "heavy_seed_loop_posts_per_min": heavy["seed_loop_posts_per_min"],
        "seed_with_its_1s_sleep_posts_per_min_estimate": 60 / (LATENCY_S + PER_POST_S + 1.0),
    }
    save(
        "bench_labeling",
        figures,
        baseline,
        f"Posts labeled per minute against a local OpenAI-compatible server costing "
        f"{LATENCY_S * 1000:.0f} ms per request plus {PER_POST_S * 1000:.0f} ms per post in it: "
        f"the real labeler ({BATCH} posts per request, {CONCURRENCY} requests in flight, answers "
        "validated, cache on) vs the seed's sequential one-post-per-request loop without its 1 s "
        "sleep, in the same run and against the same server; then a rerun of the same posts "
        f"served from the cache, and a heavier model costing {HEAVY_PER_POST_S * 1000:.0f} ms "
        "per post. The fake server answers concurrent requests in parallel, as vLLM or a "
        "multi-slot llama.cpp server do; a server that answers one request at a time gains "
        "from batching only the fixed part.",
    )


if __name__ == "__main__":
    main()
