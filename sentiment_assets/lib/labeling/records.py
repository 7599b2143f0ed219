"""What goes into and comes out of labeling: posts, attempts and the run's usage summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

Status = Literal["ok", "invalid", "failed"]
"""ok: a schema-valid label; invalid: an answer came back but not a valid label for this post;
failed: no usable answer (transport error after retries, budget exhausted, model unavailable)."""


@dataclass(frozen=True)
class PostToLabel:
    """One post to label: a caller-chosen key (unique within a run) and its text."""

    key: str
    text: str


@dataclass
class LabelAttempt:
    """One post in one labeling attempt; a post retried twice has three attempts.

    Tokens and cost are this post's share of its request (they sum to the request's totals);
    latency is the whole request's, since every post in it waited that long.
    """

    key: str
    attempt: int
    status: Status
    label: str | None
    confidence: float | None
    rationale: str | None
    provider: str
    model: str
    prompt_version: str | None
    text_hash: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float | None = 0.0
    raw_response: str = ""
    error: str | None = None
    is_weak: bool = False
    cached: bool = False
    request_id: str | None = None
    batch_size: int = 0
    injection_suspected: bool = False

    def as_row(self) -> dict[str, Any]:
        """A plain dict for data frames and JSON lines."""
        return asdict(self)


ATTEMPT_COLUMNS = tuple(f.name for f in fields(LabelAttempt))


@dataclass
class UsageSummary:
    """Totals of one labeling run, for materialization metadata and MLflow."""

    provider: str
    model: str
    prompt_version: str | None
    posts: int = 0
    attempts: int = 0
    requests: int = 0
    http_retries: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    status_counts: dict[str, int] = field(default_factory=dict)
    label_counts: dict[str, int] = field(default_factory=dict)
    posts_labeled: int = 0
    posts_unlabeled: int = 0
    budget_exhausted: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    elapsed_s: float = 0.0

    @classmethod
    def of(
        cls,
        attempts: list[LabelAttempt],
        *,
        provider: str,
        model: str,
        prompt_version: str | None,
        requests: int,
        http_retries: int,
        elapsed_s: float,
    ) -> UsageSummary:
        """Aggregate `attempts` (every row of the run) into totals."""
        keys = {a.key for a in attempts}
        ok_keys = {a.key for a in attempts if a.status == "ok"}
        known_costs = [a.cost_usd for a in attempts if a.cost_usd is not None]
        latencies = sorted(
            {(a.request_id, a.latency_ms) for a in attempts if a.request_id and not a.cached}
        )
        lat = np.array([ms for _, ms in latencies], dtype=float)
        return cls(
            provider=provider,
            model=model,
            prompt_version=prompt_version,
            posts=len(keys),
            attempts=len(attempts),
            requests=requests,
            http_retries=http_retries,
            cache_hits=sum(a.cached for a in attempts),
            tokens_in=sum(a.tokens_in for a in attempts),
            tokens_out=sum(a.tokens_out for a in attempts),
            # One request without a known price makes the total unknown, not smaller.
            cost_usd=round(sum(known_costs), 6) if len(known_costs) == len(attempts) else None,
            status_counts=dict(Counter(a.status for a in attempts)),
            label_counts=dict(Counter(a.label for a in attempts if a.status == "ok" and a.label)),
            posts_labeled=len(ok_keys),
            posts_unlabeled=len(keys - ok_keys),
            budget_exhausted=sum(
                1 for a in attempts if a.status == "failed" and (a.error or "").startswith("budget")
            ),
            latency_p50_ms=float(np.percentile(lat, 50)) if lat.size else None,
            latency_p95_ms=float(np.percentile(lat, 95)) if lat.size else None,
            elapsed_s=round(elapsed_s, 3),
        )

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-serialisable)."""
        return asdict(self)
