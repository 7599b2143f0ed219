"""The labeling engine: cache, batches, bounded concurrency, retries, budget, validation.

For each post the outcome is one or more `LabelAttempt`s and never an invented label:
- cache hit -> one `ok` attempt, no call;
- a schema-valid item for the post -> `ok` (and cached);
- an answer that is not a valid label for the post -> `invalid`, with the raw answer kept; the
  post is asked again (up to `max_attempts` answers). When the whole answer was unusable (broken
  JSON, unknown or duplicate ids) and several posts shared it, the retry splits them in halves,
  so one post that derails the model (a prompt injection, an enormous text) ends up alone
  instead of costing its neighbours their labels;
- no answer at all (timeouts, 5xx, 429 after the transport retries, budget exhausted) ->
  `failed`, with the error and the last response body kept.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from sentiment_assets.lib.labeling.budget import Budget, BudgetExhaustedError
from sentiment_assets.lib.labeling.cache import CachedLabel, LabelCache, cache_key
from sentiment_assets.lib.labeling.costs import Price
from sentiment_assets.lib.labeling.errors import ProviderError
from sentiment_assets.lib.labeling.prompt import (
    PROMPT_VERSION,
    LabelRequest,
    build_request,
    looks_like_instruction,
)
from sentiment_assets.lib.labeling.provider import Provider, ProviderAnswer
from sentiment_assets.lib.labeling.records import LabelAttempt, PostToLabel, UsageSummary
from sentiment_assets.lib.labeling.retry import RetryPolicy, call_with_retries
from sentiment_assets.lib.labeling.schema import check_answer
from sentiment_assets.lib.text.normalize import text_hash

OUTPUT_TOKENS_PER_POST = 120
"""Room for one item (id, label, confidence, a short Korean rationale) in the answer."""
OUTPUT_TOKENS_OVERHEAD = 200


@dataclass
class LabelingResult:
    """Every attempt of a run and the run's totals."""

    attempts: list[LabelAttempt]
    summary: UsageSummary


class Labeler(Protocol):
    """Anything that labels posts: an LLM through `LlmLabeler`, or the ensemble (`WeakLabeler`)."""

    @property
    def provider_name(self) -> str:
        """The provider: openai, gemini or weak."""
        ...

    @property
    def model(self) -> str:
        """The model that labels."""
        ...

    @property
    def prompt_version(self) -> str | None:
        """The prompt's version; None for the weak labeler, which reads no prompt."""
        ...

    def label(self, posts: Sequence[PostToLabel]) -> LabelingResult:
        """Label `posts`; every post gets at least one attempt in the result."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@dataclass(frozen=True)
class LabelerSettings:
    """How requests are made."""

    batch_size: int = 20
    concurrency: int = 4
    max_attempts: int = 3
    """Answers asked for per post before it is left `invalid`."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_requests: int | None = None
    """Per `label` call, retries included; None = no cap."""
    max_tokens: int | None = None
    """Per `label` call, input plus output tokens; None = no cap."""

    def __post_init__(self) -> None:
        """Reject settings that cannot work."""
        for name in ("batch_size", "concurrency", "max_attempts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class _Batch:
    posts: tuple[PostToLabel, ...]
    attempt: int


def _shares(total: int, n: int) -> list[int]:
    """`total` split into `n` integers that sum to it."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


class LlmLabeler:
    """Labels posts with one provider and model."""

    def __init__(
        self,
        provider: Provider,
        settings: LabelerSettings | None = None,
        *,
        cache: LabelCache | None = None,
        price: Price | None = None,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """Wire the engine; `price` None means the cost is unknown (recorded as null)."""
        self.provider = provider
        self.settings = settings or LabelerSettings()
        self.cache = cache
        self.budget = Budget(self.settings.max_requests, self.settings.max_tokens)
        self.price = price
        self._log = log or (lambda _msg: None)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._requests = 0
        self._http_retries = 0

    @property
    def provider_name(self) -> str:
        """The provider's name ("openai", "gemini")."""
        return self.provider.name

    @property
    def model(self) -> str:
        """The model asked."""
        return self.provider.model

    @property
    def prompt_version(self) -> str | None:
        """The prompt version every attempt records."""
        return PROMPT_VERSION

    def _key(self, post: PostToLabel) -> str:
        return cache_key(
            text_hash(post.text),
            self.provider.name,
            self.provider.model,
            PROMPT_VERSION,
            self.provider.params(),
        )

    def _attempt(self, post: PostToLabel, attempt: int, **fields: object) -> LabelAttempt:
        base: dict[str, object] = {
            "key": post.key,
            "attempt": attempt,
            "provider": self.provider.name,
            "model": self.provider.model,
            "prompt_version": PROMPT_VERSION,
            "text_hash": text_hash(post.text),
            "injection_suspected": looks_like_instruction(post.text),
            "label": None,
            "confidence": None,
            "rationale": None,
        }
        base.update(fields)
        return LabelAttempt(**base)  # type: ignore[arg-type]

    def _from_cache(self, post: PostToLabel) -> LabelAttempt | None:
        if self.cache is None:
            return None
        hit = self.cache.get(self._key(post))
        if hit is None:
            return None
        return self._attempt(
            post,
            1,
            status="ok",
            label=hit.label,
            confidence=hit.confidence,
            rationale=hit.rationale,
            raw_response=hit.raw_item,
            cached=True,
            cost_usd=0.0,
        )

    def _send(self, request: LabelRequest) -> tuple[ProviderAnswer, float]:
        max_tokens = OUTPUT_TOKENS_OVERHEAD + OUTPUT_TOKENS_PER_POST * len(request.posts)

        def count_request() -> None:
            self.budget.acquire_request()
            with self._lock:
                self._requests += 1

        def count_retry(exc: ProviderError, wait_s: float) -> None:
            with self._lock:
                self._http_retries += 1
            self._log(f"retrying in {wait_s:.2f}s after: {exc}")

        started = time.perf_counter()
        answer = call_with_retries(
            lambda: self.provider.send(request, max_output_tokens=max_tokens),
            self.settings.retry,
            before_send=count_request,
            on_retry=count_retry,
            sleep=self._sleep,
        )
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.budget.add_tokens(answer.tokens_in + answer.tokens_out)
        return answer, latency_ms

    def _run_batch(self, batch: _Batch) -> tuple[list[LabelAttempt], list[_Batch]]:
        request_id = uuid.uuid4().hex[:16]
        n = len(batch.posts)
        request = build_request(batch.posts)
        try:
            answer, latency_ms = self._send(request)
        except BudgetExhaustedError as exc:
            rows = [
                self._attempt(p, batch.attempt, status="failed", error=str(exc), batch_size=n)
                for p in batch.posts
            ]
            return rows, []
        except ProviderError as exc:
            rows = [
                self._attempt(
                    p,
                    batch.attempt,
                    status="failed",
                    error=str(exc)
                    + (
                        f" (still failing after {self.settings.retry.max_retries} retries)"
                        if exc.retryable
                        else " (not retryable)"
                    ),
                    raw_response=exc.body,
                    request_id=request_id,
                    batch_size=n,
                )
                for p in batch.posts
            ]
            return rows, []
        ids = request.ids
        check = check_answer(answer.text, ids)
        ins, outs = _shares(answer.tokens_in, n), _shares(answer.tokens_out, n)
        rows: list[LabelAttempt] = []
        retry_posts: list[PostToLabel] = []
        for i, (rid, post) in enumerate(zip(ids, batch.posts, strict=True)):
            cost = round(self.price.cost(ins[i], outs[i]), 10) if self.price is not None else None
            common = {
                "tokens_in": ins[i],
                "tokens_out": outs[i],
                "latency_ms": round(latency_ms, 1),
                "cost_usd": cost,
                "request_id": request_id,
                "batch_size": n,
            }
            item = check.valid.get(rid)
            if item is not None:
                raw_item = json.dumps(check.raw_items[rid], ensure_ascii=False)
                rows.append(
                    self._attempt(
                        post,
                        batch.attempt,
                        status="ok",
                        label=item.label,
                        confidence=item.confidence,
                        rationale=item.rationale,
                        raw_response=raw_item,
                        **common,
                    )
                )
                if self.cache is not None:
                    self.cache.put(
                        self._key(post),
                        text_hash=text_hash(post.text),
                        provider=self.provider.name,
                        model=self.provider.model,
                        prompt_version=PROMPT_VERSION,
                        params=self.provider.params(),
                        label=CachedLabel(item.label, item.confidence, item.rationale, raw_item),
                    )
                continue
            reason = check.invalid[rid]
            if answer.finish_reason in ("length", "MAX_TOKENS"):
                reason += f" (answer cut off: finish_reason={answer.finish_reason})"
            rows.append(
                self._attempt(
                    post,
                    batch.attempt,
                    status="invalid",
                    error=reason,
                    raw_response=answer.text or "",
                    **common,
                )
            )
            retry_posts.append(post)
        follow_ups: list[_Batch] = []
        if retry_posts and batch.attempt < self.settings.max_attempts:
            nxt = batch.attempt + 1
            if check.answer_error is not None and len(retry_posts) > 1:
                half = len(retry_posts) // 2
                follow_ups = [
                    _Batch(tuple(retry_posts[:half]), nxt),
                    _Batch(tuple(retry_posts[half:]), nxt),
                ]
            else:
                follow_ups = [_Batch(tuple(retry_posts), nxt)]
        return rows, follow_ups

    def label(self, posts: Sequence[PostToLabel]) -> LabelingResult:
        """Label `posts` (keys must be unique); see the module docstring for the outcomes."""
        keys = [p.key for p in posts]
        if len(set(keys)) != len(keys):
            raise ValueError("post keys must be unique within one labeling run")
        started = time.perf_counter()
        with self._lock:
            self._requests = 0
            self._http_retries = 0
        # The budget is per run: each call starts with the full allowance.
        self.budget = Budget(self.settings.max_requests, self.settings.max_tokens)
        attempts: list[LabelAttempt] = []
        todo: list[PostToLabel] = []
        for post in posts:
            hit = self._from_cache(post)
            if hit is not None:
                attempts.append(hit)
            else:
                todo.append(post)
        # A post that reads like instructions is asked about alone: if the model obeys it, only
        # that post's label is at stake (and the post is flagged for review), not its neighbours'.
        suspects = [p for p in todo if looks_like_instruction(p.text)]
        regular = [p for p in todo if not looks_like_instruction(p.text)]
        size = self.settings.batch_size
        batches = [_Batch(tuple(regular[i : i + size]), 1) for i in range(0, len(regular), size)]
        batches += [_Batch((p,), 1) for p in suspects]
        if batches:
            self._log(
                f"labeling {len(todo)} posts in {len(batches)} requests "
                f"({len(attempts)} from cache) with {self.provider.name}:{self.provider.model}"
            )
        with ThreadPoolExecutor(
            max_workers=self.settings.concurrency, thread_name_prefix="llm"
        ) as pool:
            running: dict[Future, _Batch] = {pool.submit(self._run_batch, b): b for b in batches}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    rows, follow_ups = future.result()
                    attempts.extend(rows)
                    for nxt in follow_ups:
                        running[pool.submit(self._run_batch, nxt)] = nxt
        order = {k: i for i, k in enumerate(keys)}
        attempts.sort(key=lambda a: (order[a.key], a.attempt))
        summary = UsageSummary.of(
            attempts,
            provider=self.provider.name,
            model=self.provider.model,
            prompt_version=PROMPT_VERSION,
            requests=self._requests,
            http_retries=self._http_retries,
            elapsed_s=time.perf_counter() - started,
        )
        return LabelingResult(attempts=attempts, summary=summary)

    def close(self) -> None:
        """Release the provider's connections and the cache file."""
        self.provider.close()
        if self.cache is not None:
            self.cache.close()
