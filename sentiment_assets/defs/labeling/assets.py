"""raw_chunks and labeled_chunks: freeze new posts into chunks, then label every chunked post."""

from collections import Counter
from dataclasses import dataclass

import dagster as dg
from pydantic import Field

from sentiment_assets.defs.labeling.resources import LLM_POOL, LlmResource
from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.labeling.chunks import (
    attempts_frame,
    boundary_key,
    freeze_chunks,
    pending_posts,
    post_key,
    posts_to_label,
    write_attempts,
)
from sentiment_assets.lib.labeling.errors import LabelingConfigError
from sentiment_assets.lib.labeling.labeler import Labeler
from sentiment_assets.lib.labeling.records import LabelAttempt, PostToLabel, UsageSummary
from sentiment_assets.lib.labeling.usage import log_usage
from sentiment_assets.lib.settings import Paths, mlflow_tracking_uri

CHUNK_THRESHOLD = 1000
"""Posts per chunk: the seed's batch, and the new-posts sensor's trigger."""


class RawChunksConfig(dg.Config):
    """How many posts make a chunk, and whether a partial chunk may be frozen."""

    threshold: int = Field(default=CHUNK_THRESHOLD, ge=1, description="Posts per chunk.")
    flush: bool = Field(
        default=True,
        description="Also freeze the remainder (fewer than `threshold` posts) as a partial "
        "chunk. On for hand-started runs and `make demo` (the replay site yields a few hundred "
        "posts); new_posts_sensor turns it off, so its chunks are exactly `threshold` posts.",
    )


class LabeledChunksConfig(dg.Config):
    """Bounds on one labeling run."""

    max_posts: int | None = Field(
        default=None, ge=1, description="Label at most this many waiting posts in this run."
    )


@dg.asset(
    group_name="labeling",
    deps=["raw_posts"],
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    kinds={"duckdb"},
    description="One row per post per chunk: every `threshold` (1,000) not yet chunked posts, in "
    "arrival order, frozen with a chunk id and the exact text that gets labeled. A post is in "
    "exactly one chunk.",
)
def raw_chunks(
    context: dg.AssetExecutionContext, config: RawChunksConfig, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Freeze full chunks of unchunked posts (and, with `flush`, the remainder)."""
    with lakehouse.get().session() as lake:
        chunks = freeze_chunks(lake, threshold=config.threshold, flush=config.flush)
        left = pending_posts(lake, config.threshold).count
    for chunk in chunks:
        context.log.info(
            "froze %s: %d posts, %s -> %s%s",
            chunk.chunk_id,
            chunk.size,
            chunk.first,
            chunk.last,
            " (partial)" if chunk.is_partial else "",
        )
    if not chunks:
        context.log.info(
            "%d posts waiting, fewer than a chunk of %d; nothing frozen", left, config.threshold
        )
    return dg.MaterializeResult(
        metadata={
            "chunks_frozen": len(chunks),
            "posts_chunked": sum(c.size for c in chunks),
            "chunk_ids": dg.MetadataValue.json([c.chunk_id for c in chunks]),
            "last_boundary": boundary_key(chunks[-1].last) if chunks else "",
            "partial_chunks": sum(c.is_partial for c in chunks),
            "posts_left_unchunked": left,
            "threshold": config.threshold,
        }
    )


def _build(llm: LlmResource, context: dg.OpExecutionContext, paths: Paths) -> Labeler:
    try:
        return llm.build(cache_dir=paths.warehouse, models_root=paths.models, log=context.log.info)
    except LabelingConfigError as exc:
        # Misconfiguration or a missing model: retrying the step cannot fix it.
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


def _track(
    context: dg.OpExecutionContext,
    llm: LlmResource,
    summary: UsageSummary,
    paths: Paths,
    metadata: dict[str, object],
) -> None:
    try:
        metadata["mlflow_run_id"] = log_usage(
            summary,
            tracking_uri=mlflow_tracking_uri(paths),
            artifact_root=paths.models / "mlartifacts",
            run_name=f"labeling-{context.run.run_id[:8]}",
            params={
                "provider": summary.provider,
                "model": summary.model,
                "prompt_version": summary.prompt_version,
                "batch_size": llm.batch_size,
                "concurrency": llm.concurrency,
                "max_attempts": llm.max_attempts,
                "max_requests": llm.max_requests,
                "max_tokens": llm.max_tokens,
            },
            tags={"dagster_run_id": context.run.run_id, "asset": "labeled_chunks"},
        )
    except Exception as exc:
        # The labels are stored; a tracking outage is reported, not allowed to undo that.
        context.log.warning(f"usage not logged to MLflow: {type(exc).__name__}: {exc}")
        metadata["mlflow_error"] = f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class LabelingBatch:
    """What the labeling step gets from the lake: the posts, and where each one lives."""

    keys: dict[str, tuple[str, int, int]]
    """post key -> (chunk_id, board_id, post_id)."""
    posts: list[PostToLabel]


@dataclass(frozen=True)
class LabelingOutcome:
    """What the LLM step hands to the writing step."""

    batch: LabelingBatch
    attempts: list[LabelAttempt]
    summary: UsageSummary
    metadata: dict[str, object]


@dg.op(
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    ins={"after": dg.In(dg.Nothing)},
    description="Read the chunked posts still waiting for a label (a short lakehouse step).",
)
def posts_to_label_now(
    context: dg.OpExecutionContext,
    config: LabeledChunksConfig,
    lakehouse: LakehouseResource,
    llm: LlmResource,
) -> LabelingBatch:
    """The posts this run labels; the model and prompt decide which earlier answers count."""
    paths = Paths.from_env()
    labeler = _build(llm, context, paths) if llm.provider != "weak" else None
    try:
        with lakehouse.get().session() as session:
            todo = posts_to_label(
                session,
                provider=llm.provider,
                model=labeler.model if labeler else "",
                prompt_version=labeler.prompt_version if labeler else None,
                max_attempts=llm.max_attempts,
                limit=config.max_posts,
            )
    finally:
        if labeler is not None:
            labeler.close()
    keys = {
        post_key(int(b), int(p)): (str(c), int(b), int(p))
        for c, b, p in zip(todo["chunk_id"], todo["board_id"], todo["post_id"], strict=True)
    }
    posts = [
        PostToLabel(post_key(int(b), int(p)), str(t))
        for b, p, t in zip(todo["board_id"], todo["post_id"], todo["text"], strict=True)
    ]
    context.log.info("%d chunked posts wait for a label", len(posts))
    return LabelingBatch(keys, posts)


@dg.op(
    pool=LLM_POOL,
    description="Ask the LLM (or the ensemble) for labels, outside the lakehouse pool: crawling, "
    "feedback ingest and scoring write the lake meanwhile.",
)
def llm_answers(
    context: dg.OpExecutionContext, batch: LabelingBatch, llm: LlmResource
) -> LabelingOutcome:
    """Label the batch and log the usage; nothing here touches the lakehouse."""
    paths = Paths.from_env()
    if not batch.posts:
        context.log.info("no chunked post is waiting for a label")
        return LabelingOutcome(batch, [], UsageSummary(llm.provider, "", None), {})
    labeler = _build(llm, context, paths)
    try:
        result = labeler.label(batch.posts)
    finally:
        labeler.close()
    summary = result.summary
    metadata: dict[str, object] = {}
    if llm.track_usage:
        _track(context, llm, summary, paths, metadata)
    return LabelingOutcome(batch, list(result.attempts), summary, metadata)


@dg.op(
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    description="Append every attempt to labeled_chunks (a short lakehouse step).",
)
def stored_attempts(
    context: dg.OpExecutionContext, outcome: LabelingOutcome, lakehouse: LakehouseResource
):
    """Write the attempts; fail the run when no post got a label (after recording why)."""
    batch, summary = outcome.batch, outcome.summary
    if not batch.posts:
        yield dg.Output(
            None, metadata={"rows_written": 0, "posts_to_label": 0, "provider": summary.provider}
        )
        return
    frame = attempts_frame(outcome.attempts, batch.keys, run_id=context.run.run_id)
    with lakehouse.get().session() as session:
        written = write_attempts(session, frame)
    metadata = _metadata(outcome, written)
    errors = Counter(a.error for a in outcome.attempts if a.status == "failed" and a.error)
    if (
        summary.posts_labeled == 0
        and summary.status_counts.get("failed", 0)
        and not summary.budget_exhausted
    ):
        # Every post failed for lack of an answer (server down, key refused): the attempts are
        # recorded above; fail the run so it shows red and run retries can take it again.
        top, n = errors.most_common(1)[0]
        raise dg.Failure(
            description=f"no post got a label: {n} attempts failed with: {top}",
            metadata=metadata,  # type: ignore[arg-type]
            allow_retries=False,
        )
    yield dg.Output(None, metadata=metadata)  # type: ignore[arg-type]


def _metadata(outcome: LabelingOutcome, written: int) -> dict[str, object]:
    summary, attempts = outcome.summary, outcome.attempts
    return {
        "rows_written": written,
        "posts_to_label": len(outcome.batch.posts),
        "posts_labeled": summary.posts_labeled,
        "posts_unlabeled": summary.posts_unlabeled,
        "status_counts": dg.MetadataValue.json(summary.status_counts),
        "label_counts": dg.MetadataValue.json(summary.label_counts),
        "chunks": dg.MetadataValue.json(sorted({c for c, _, _ in outcome.batch.keys.values()})),
        "provider": summary.provider,
        "model": summary.model,
        "prompt_version": summary.prompt_version or "",
        "is_weak": summary.provider == "weak",
        "requests": summary.requests,
        "http_retries": summary.http_retries,
        "cache_hits": summary.cache_hits,
        "tokens_in": summary.tokens_in,
        "tokens_out": summary.tokens_out,
        "cost_usd": summary.cost_usd if summary.cost_usd is not None else "unknown price",
        "latency_p50_ms": summary.latency_p50_ms or 0.0,
        "latency_p95_ms": summary.latency_p95_ms or 0.0,
        "budget_exhausted_posts": summary.budget_exhausted,
        "injection_suspected_posts": sum(
            1 for a in attempts if a.injection_suspected and a.attempt == 1
        ),
        "elapsed_s": summary.elapsed_s,
        **outcome.metadata,
    }


@dg.config_mapping
def _labeled_chunks_config(config: LabeledChunksConfig) -> dict:
    return {"posts_to_label_now": {"config": config.model_dump()}}


@dg.graph_asset(
    name="labeled_chunks",
    group_name="labeling",
    ins={
        "raw_chunks": dg.AssetIn(dagster_type=dg.Nothing),
        "ensemble_model": dg.AssetIn(dagster_type=dg.Nothing),
    },
    config=_labeled_chunks_config,
    kinds={"duckdb"},
    description="One row per post per labeling attempt: label (부정/중립/긍정), confidence, "
    "rationale, provider, model, prompt version, tokens, latency, cost estimate, raw response "
    "and status (ok/invalid/failed; only ok rows carry a label). Weak rows (is_weak) come from "
    "the ensemble when no LLM is configured. Three steps: read the waiting posts (lakehouse "
    "pool), ask the LLM (llm_api pool, the lake free for other writers), write the attempts "
    "(lakehouse pool).",
)
def labeled_chunks(raw_chunks, ensemble_model):
    """Label every chunked post still waiting for a label; record every attempt."""
    batch = posts_to_label_now(after=[raw_chunks, ensemble_model])
    return stored_attempts(llm_answers(batch))
