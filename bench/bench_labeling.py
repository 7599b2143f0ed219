"""LLM labeling throughput: ours (batched, concurrent, cached) vs the seed's loop, same run.

A local server speaking OpenAI chat-completions answers every request after a fixed 300 ms
(the latency of a small local model's first token plus a short answer). The seed labeled one
post per request, sequentially, with a one-second sleep between posts; the baseline here keeps
its one-post-per-request sequential loop but drops the sleep, so the comparison is about request
shape, not about the sleep. A second scenario adds 40 ms per post in the request, since a real
model takes longer to write a longer answer: batching gains less there, and the figures say how
much. Finally the same posts are labeled again to time a rerun served from the cache.
"""

from __future__ import annotations

import shutil
import time

import httpx

from bench.common import WORK, save
from sentiment_assets.lib.labeling.cache import LabelCache
from sentiment_assets.lib.labeling.costs import Price
from sentiment_assets.lib.labeling.labeler import LabelerSettings, LlmLabeler
from sentiment_assets.lib.labeling.openai_compat import OpenAICompatProvider
from sentiment_assets.lib.labeling.prompt import build_request
from sentiment_assets.lib.labeling.records import PostToLabel
from sentiment_assets.lib.labeling.schema import check_answer
from sentiment_assets_tests.labeling.fake_llm import FakeLlmServer

LATENCY_S = 0.3
PER_POST_S = 0.04
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
    fixed = _scenario(0.0, "fixed")
    per_post = _scenario(PER_POST_S, "perpost")
    figures = {
        "server_latency_ms": LATENCY_S * 1000,
        "posts_ours": OURS_POSTS,
        "batch_size": BATCH,
        "concurrency": CONCURRENCY,
        "posts_per_min_ours": fixed["ours_posts_per_min"],
        "speedup_vs_seed_loop": fixed["speedup"],
        "requests_ours": fixed["ours_requests"],
        "cached_rerun_s": fixed["cached_rerun_s"],
        "cached_rerun_posts_per_s": fixed["cached_rerun_posts_per_s"],
        "with_40ms_per_post_posts_per_min_ours": per_post["ours_posts_per_min"],
        "with_40ms_per_post_speedup_vs_seed_loop": per_post["speedup"],
    }
    baseline = {
        "posts_seed_loop": BASELINE_POSTS,
        "seed_loop_posts_per_min": fixed["seed_loop_posts_per_min"],
        "with_40ms_per_post_seed_loop_posts_per_min": per_post["seed_loop_posts_per_min"],
        "seed_with_its_1s_sleep_posts_per_min_estimate": 60 / (LATENCY_S + 1.0),
    }
    save(
        "bench_labeling",
        figures,
        baseline,
        f"Posts labeled per minute against a local OpenAI-compatible server answering in "
        f"{LATENCY_S * 1000:.0f} ms: the real labeler ({BATCH} posts per request, {CONCURRENCY} "
        "requests in flight, answers validated, cache on) vs the seed's sequential "
        "one-post-per-request loop without its 1 s sleep, in the same run; then a rerun of the "
        "same posts served from the cache, and a scenario where the server also spends 40 ms "
        "per post in the request.",
    )


if __name__ == "__main__":
    main()
