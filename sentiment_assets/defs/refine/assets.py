"""refined_labels: one refinement round of the self-training loop per materialization."""

import os
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from sentiment_assets.defs.labeling.resources import LLM_POOL, LlmResource
from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.labeling.errors import LabelingConfigError
from sentiment_assets.lib.labeling.records import UsageSummary
from sentiment_assets.lib.models.tracking import log_run
from sentiment_assets.lib.refine.convergence import ConvergenceSettings
from sentiment_assets.lib.refine.inputs import RoundInputs, read_inputs
from sentiment_assets.lib.refine.relabel import LlmRelabeler, build_relabeler
from sentiment_assets.lib.refine.round import RoundResult, RoundSettings, run_round
from sentiment_assets.lib.refine.rules import RuleSettings
from sentiment_assets.lib.refine.store import history, read_rounds, round_row, write_round
from sentiment_assets.lib.refine.tables import REFINED_LABELS
from sentiment_assets.lib.registry.champion import champion_path
from sentiment_assets.lib.settings import Paths, mlflow_tracking_uri


class RefinedLabelsConfig(dg.Config):
    """Budgets, the threshold schedule and the stopping rules of a round."""

    max_relabel: int = Field(
        default=100, ge=0, description="Most doubtful posts sent to the LLM relabeler per round."
    )
    max_review: int = Field(
        default=50, ge=0, description="Most uncertain posts flagged for human review per round."
    )
    relabel_model: str | None = Field(
        default=None,
        description="Model for relabeling (default: the labeling model); a stronger one pays.",
    )
    folds: int = Field(default=5, ge=2, description="k of the out-of-sample cross-validation.")
    start_threshold: float = Field(default=0.8, gt=0, le=1)
    threshold_step: float = Field(default=0.02, ge=0, description="Added to it every round.")
    max_threshold: float = Field(default=0.95, gt=0, le=1)
    min_improvement: float = Field(default=0.005, ge=0)
    patience: int = Field(default=3, ge=1)
    min_change_rate: float = Field(default=0.01, ge=0)
    min_member_variance: float = Field(default=0.0005, ge=0)
    min_human: int = Field(
        default=30, ge=1, description="Human-labeled posts needed to score on them."
    )
    track: bool = Field(default=True, description="Log the round's metrics to MLflow.")
    unfreeze: bool = Field(
        default=False,
        description="Re-judge posts refined before the loop converged (after convergence only "
        "new posts and people change labels); e.g. once a much better champion is promoted.",
    )

    def settings(self) -> RoundSettings:
        """The Dagster-free round settings."""
        return RoundSettings(
            rules=RuleSettings(max_relabel=self.max_relabel, max_review=self.max_review),
            convergence=ConvergenceSettings(
                min_improvement=self.min_improvement,
                patience=self.patience,
                min_change_rate=self.min_change_rate,
                min_member_variance=self.min_member_variance,
                start_threshold=self.start_threshold,
                threshold_step=self.threshold_step,
                max_threshold=self.max_threshold,
            ),
            folds=self.folds,
            min_human=self.min_human,
        )


def _track(result: RoundResult, paths: Paths, run_id: str, model_version: str | None) -> str:
    metrics: dict[str, float] = {
        "threshold": result.threshold,
        "next_threshold": result.decision.next_threshold,
        "converged": float(result.decision.converged),
        **{k: float(v) for k, v in result.counts.items()},
        "correction_rate": float(result.bias["correction_rate"]),  # type: ignore[arg-type]
    }
    if result.bias["distribution_shift_tv"] is not None:
        metrics["distribution_shift_tv"] = float(result.bias["distribution_shift_tv"])  # type: ignore[arg-type]
    m = result.metrics
    for name, value in (
        (m.score_name, m.score),
        ("label_change_rate", m.label_change_rate),
        ("member_variance", m.member_variance),
        ("improvement", result.decision.improvement),
    ):
        if value is not None:
            metrics[name] = float(value)
    return log_run(
        mlflow_tracking_uri(paths),
        paths.models,
        run_name=f"refinement-round-{result.round}",
        params={"round": result.round, "threshold": result.threshold},
        metrics=metrics,
        tags={
            "dagster_run_id": run_id,
            "asset": REFINED_LABELS,
            "refinement_round": str(result.round),
            "ensemble_model_version": model_version or "",
            "stop_reason": result.decision.reason,
        },
    )


def _champion(paths: Paths, context: dg.OpExecutionContext) -> str | None:
    """The serving ensemble's version directory name, or None (then the newest scores count)."""
    try:
        return champion_path(paths.models).name
    except Exception as exc:
        # No model yet, or a registry problem: refinement still runs on the newest scores.
        context.log.info(f"no champion to prefer ({type(exc).__name__}: {exc})")
        return None


@dataclass(frozen=True)
class RefinementStart:
    """What the round step gets from the lake."""

    inputs: RoundInputs
    rounds: pd.DataFrame


@dataclass(frozen=True)
class RefinementOutcome:
    """What the round step hands to the writing step."""

    result: RoundResult
    model_version: str | None
    snapshot_id: int
    last_converged: bool
    relabel_note: str
    usage: UsageSummary | None
    metadata: dict[str, Any]


@dg.op(
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    ins={"after": dg.In(dg.Nothing)},
    description="Read the round's inputs and the round log (a short lakehouse step).",
)
def refinement_inputs(
    context: dg.OpExecutionContext, lakehouse: LakehouseResource
) -> RefinementStart:
    """Labels, predictions, feedback and past rounds, as of one lakehouse snapshot."""
    champion = _champion(Paths.from_env(), context)
    with lakehouse.get().session() as session:
        return RefinementStart(
            read_inputs(session, champion_version=champion), read_rounds(session)
        )


@dg.op(
    pool=LLM_POOL,
    description="Run the round (out-of-sample models, rules, LLM relabels) outside the "
    "lakehouse pool: the lake's other writers go on meanwhile.",
)
def refinement_round(
    context: dg.OpExecutionContext,
    config: RefinedLabelsConfig,
    start: RefinementStart,
    llm: LlmResource,
) -> RefinementOutcome:
    """Decide the round's labels; log it to MLflow. Nothing here touches the lakehouse."""
    paths = Paths.from_env()
    inputs = start.inputs
    past, last_converged = history(start.rounds)
    relabeler: LlmRelabeler | None = None
    try:
        relabeler = build_relabeler(
            llm.config(),
            model=config.relabel_model,
            cache_dir=paths.warehouse,
            models_root=paths.models,
            environ=os.environ,
        )
    except LabelingConfigError as exc:
        # A named but misconfigured LLM is a configuration error: retrying cannot fix it.
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    frozen = last_converged and not config.unfreeze
    try:
        result = run_round(
            inputs,
            past,
            last_converged=frozen,
            settings=config.settings(),
            relabel=relabeler if config.max_relabel else None,
            run_id=context.run.run_id,
        )
    finally:
        if relabeler is not None:
            relabeler.close()
    metadata: dict[str, Any] = {}
    if config.track:
        try:
            metadata["mlflow_run_id"] = _track(
                result, paths, context.run.run_id, inputs.model_version
            )
        except Exception as exc:
            # The round's labels matter more than its log line: report, do not fail.
            context.log.warning(f"round not logged to MLflow: {type(exc).__name__}: {exc}")
            metadata["mlflow_error"] = f"{type(exc).__name__}: {exc}"
    if relabeler is None:
        relabel_note = "no LLM provider configured (provider weak): relabel skipped"
    elif not config.max_relabel:
        relabel_note = "relabel turned off (max_relabel 0)"
    else:
        relabel_note = "relabel ran"
    return RefinementOutcome(
        result=result,
        model_version=inputs.model_version,
        snapshot_id=inputs.snapshot_id,
        last_converged=frozen,
        relabel_note=relabel_note,
        usage=relabeler.summaries[-1] if relabeler and relabeler.summaries else None,
        metadata=metadata,
    )


@dg.op(
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    description="Append the round's label versions, quality rows and round row in one commit.",
)
def stored_round(
    context: dg.OpExecutionContext, outcome: RefinementOutcome, lakehouse: LakehouseResource
):
    """Write the round (refused if another run stored this round number meanwhile)."""
    result = outcome.result
    row = round_row(
        result,
        model_version=outcome.model_version,
        snapshot_id=outcome.snapshot_id,
        mlflow_run_id=outcome.metadata.get("mlflow_run_id"),
        run_id=context.run.run_id,
        refined_at=result.refined_at,
    )
    try:
        with lakehouse.get().session() as session:
            snapshot_id = write_round(session, result, row)
    except ValueError as exc:
        # Another run's round landed while this one was computing: its labels are stale.
        raise dg.Failure(
            description=f"{exc}; materialize refined_labels again to run the next round",
            allow_retries=False,
        ) from exc
    for note in result.notes:
        context.log.info(note)
    for warning in result.bias["warnings"]:  # type: ignore[attr-defined]
        context.log.warning(f"bias check: {warning}")
    yield dg.Output(None, metadata=_metadata(outcome, snapshot_id))


def _metadata(outcome: RefinementOutcome, snapshot_id: int | None) -> dict[str, Any]:
    result, usage = outcome.result, outcome.usage
    m, d = result.metrics, result.decision
    return {
        **outcome.metadata,
        "round": result.round,
        "threshold": result.threshold,
        "next_threshold": d.next_threshold,
        **{k: v for k, v in result.counts.items()},
        "label_change_rate": m.label_change_rate if m.label_change_rate is not None else "n/a",
        "score_name": m.score_name,
        "score": m.score if m.score is not None else "n/a",
        "member_variance": m.member_variance if m.member_variance is not None else "n/a",
        "improvement": d.improvement if d.improvement is not None else "n/a",
        "converged": d.converged,
        "stop_reason": d.reason or "",
        "convergence_detail": d.detail,
        "frozen_after_convergence": outcome.last_converged,
        "relabel": outcome.relabel_note,
        "relabel_requests": usage.requests if usage else 0,
        "relabel_budget_exhausted_posts": usage.budget_exhausted if usage else 0,
        "relabel_tokens": (usage.tokens_in + usage.tokens_out) if usage else 0,
        "ensemble_model_version": outcome.model_version or "none",
        "source_snapshot_id": outcome.snapshot_id,
        "snapshot_id": snapshot_id or 0,
        "notes": dg.MetadataValue.json(result.notes),
        "bias": dg.MetadataValue.json(result.bias),
        "distribution_shift_tv": result.bias["distribution_shift_tv"]
        if result.bias["distribution_shift_tv"] is not None
        else "n/a (no post labeled before)",
        "bias_warnings": len(result.bias["warnings"]),  # type: ignore[arg-type]
    }


@dg.config_mapping
def _refined_labels_config(config: RefinedLabelsConfig) -> dict:
    return {"refinement_round": {"config": config.model_dump()}}


@dg.graph_asset(
    name=REFINED_LABELS,
    group_name="refine",
    ins={
        "labeled_chunks": dg.AssetIn(dagster_type=dg.Nothing),
        "ensemble_predictions": dg.AssetIn(dagster_type=dg.Nothing),
        "feedback": dg.AssetIn(dagster_type=dg.Nothing),
    },
    config=_refined_labels_config,
    kinds={"duckdb", "scikitlearn"},
    description="One row per post per label version (append-only; `lib.refine.tables."
    "current_labels` gives the current one): label, source (llm, weak, human, "
    "ensemble-corrected, llm-relabel), confidence, labeler, previous label, reason, round, "
    "training text, ensemble version and lakehouse snapshot used. Each materialization is one "
    "refinement round; label_quality (per post per round) and refinement_rounds (per round) "
    "are written in the same commit. Three steps: read (lakehouse pool), the round with its "
    "LLM relabels (llm_api pool, the lake free for other writers), write (lakehouse pool).",
)
def refined_labels(labeled_chunks, ensemble_predictions, feedback):
    """Run one refinement round and append its label versions."""
    start = refinement_inputs(after=[labeled_chunks, ensemble_predictions, feedback])
    return stored_round(refinement_round(start))
