"""The serving API: predictions, corrections, the review queue and review decisions.

Writes go to the feedback store (SQLite, WAL), never to the lakehouse, so they do not wait for a
pipeline run. Write endpoints need `Authorization: Bearer <SENTIMENT_API_TOKEN>`: 401 without
it, 403 with a wrong one. Bodies over the configured size get 413 whether declared by
Content-Length or streamed; invalid JSON, unknown labels and empty or overlong text get 422.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Annotated, Any, cast

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sentiment_assets.lib.feedback.store import (
    FeedbackError,
    FeedbackInput,
    FeedbackRow,
    FeedbackStore,
    IdempotencyConflict,
)
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.serving import review_queue
from sentiment_assets.lib.serving.body_limit import BodyLimitMiddleware
from sentiment_assets.lib.serving.champion import ChampionHolder
from sentiment_assets.lib.serving.schemas import (
    ErrorBody,
    FeedbackOut,
    FeedbackRequest,
    Health,
    Label,
    MemberVote,
    Prediction,
    PredictRequest,
    PredictResponse,
    QueueItem,
    ReviewOut,
    ReviewQueue,
    ReviewRequest,
)
from sentiment_assets.lib.serving.settings import ServingSettings

_bearer = HTTPBearer(auto_error=False, description="SENTIMENT_API_TOKEN")
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No bearer token."},
    403: {"model": ErrorBody, "description": "Wrong bearer token."},
    413: {"model": ErrorBody, "description": "Body larger than the configured limit."},
    422: {"description": "Invalid JSON, unknown label, empty or overlong text."},
}


def _load_ensemble(models_root: Any) -> Any:
    # Imported late: the ensemble pulls in the members' frameworks. The registry's champion
    # (the newest save while nothing is registered) is what every reader of the model serves.
    from sentiment_assets.lib.registry import load_champion

    return load_champion(models_root)


def _ensemble_folder(settings: ServingSettings) -> Any:
    from sentiment_assets.lib.models.ensemble import NAME

    return settings.models / NAME


def _feedback_out(row: FeedbackRow, created: bool) -> FeedbackOut:
    return FeedbackOut(
        id=row.id,
        created=created,
        text=row.text,
        board_id=row.board_id,
        post_id=row.post_id,
        old_label=row.old_label,
        new_label=row.new_label,
        reviewer=row.reviewer,
        comment=row.comment,
        model_version=row.model_version,
        confidence=row.confidence,
        source=row.source,
        created_at=row.created_at,
    )


def _present(value: Any) -> Any:
    """None for pandas' missing markers (NaN, NaT, None), the value otherwise."""
    return None if value is None or bool(pd.isna(value)) else value


def _probs(row: np.ndarray) -> dict[str, float]:
    return {label: float(p) for label, p in zip(LABELS, row, strict=True)}


def predictions(model: Any, texts: list[str]) -> list[Prediction]:
    """The ensemble's answers for `texts`, each with its members' votes."""
    result = model.predict(texts)
    out = []
    for i, text in enumerate(texts):
        if result.status[i] != "ok":
            out.append(
                Prediction(
                    text=text,
                    status="empty",
                    label=None,
                    confidence=None,
                    disagreement=None,
                    probabilities=None,
                    members={},
                )
            )
            continue
        label = LABELS[int(result.proba[i].argmax())]
        members = {
            name: MemberVote(
                label=LABELS[int(p[i].argmax())],  # type: ignore[arg-type]
                probabilities=_probs(p[i]),
                agrees=LABELS[int(p[i].argmax())] == label,
            )
            for name, p in result.members.items()
        }
        out.append(
            Prediction(
                text=text,
                status="ok",
                label=label,  # type: ignore[arg-type]
                confidence=float(result.confidence[i]),
                disagreement=float(result.disagreement[i]),
                probabilities=_probs(result.proba[i]),
                members=members,
            )
        )
    return out


class _LakeReader:
    """One reader connection to the lake, reused for a while, then reopened.

    Attaching the lake (loading extensions, reading the catalog) costs far more than a query,
    and each query is its own transaction, so a kept connection still sees new snapshots. DuckDB
    connections are not for concurrent use: requests take turns on it.
    """

    def __init__(self, lakehouse: Lakehouse, ttl_s: float = 60.0):
        self._lakehouse = lakehouse
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._session: LakeSession | None = None
        self._opened = 0.0

    def _close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._session = None, None

    def run(self, work: Callable[[LakeSession], Any]) -> Any:
        """`work(session)` on the kept connection; a failed connection is dropped."""
        with self._lock:
            if self._session is None or time.monotonic() - self._opened > self._ttl:
                self._close()
                stack = ExitStack()
                self._session = stack.enter_context(self._lakehouse.session())
                self._stack, self._opened = stack, time.monotonic()
            try:
                return work(self._session)
            except Exception:
                self._close()
                raise


class _QueueCache:
    """Review-queue answers reused for a few seconds, dropped when a review is recorded."""

    def __init__(self, ttl_s: float):
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[float, ReviewQueue]] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], ReviewQueue]) -> ReviewQueue:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit and hit[0] > now:
            return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now + self._ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def create_app(
    settings: ServingSettings,
    *,
    load_model: Callable[[Any], Any] = _load_ensemble,
) -> FastAPI:
    """Build the API for `settings`; the champion is loaded here, once.

    Args:
        settings: token, folders and limits.
        load_model: loads the newest model from the models folder, raising ModelLoadError when
            there is none (the registry's champion, `load_champion`, by default).

    Raises:
        ValueError: no API token is configured.
    """
    if not settings.api_token:
        raise ValueError("the serving API needs an api_token for its write endpoints")
    store = FeedbackStore(settings.feedback_db)
    champion = ChampionHolder(
        settings.models,
        load=load_model,
        watch=_ensemble_folder(settings),
        check_interval_s=settings.model_check_interval_s,
    )
    lakehouse = Lakehouse(settings.warehouse)
    reader = _LakeReader(lakehouse)
    cache = _QueueCache(settings.review_cache_s)
    token = settings.api_token.encode()

    app = FastAPI(
        title="maple-sentiment API",
        version="1",
        summary="Sentiment of MapleStory community posts, and the corrections people make.",
        description=__doc__ or "",
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.state.champion = champion
    app.state.store = store

    def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), token):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="wrong bearer token")
        return credentials.credentials

    def current_model() -> Any:
        model = champion.current()
        if model is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"no model is loaded: {champion.error or 'none trained yet'}",
            )
        return model

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness, the model version being served, and feedback counts."""
        model = champion.current()
        return Health(
            status="ok",
            model_version=getattr(model, "version", None) if model is not None else None,
            model_error=champion.error,
            feedback_rows=store.count(),
            unconsumed_feedback=store.unconsumed_count(),
        )

    @app.post(
        "/predict",
        response_model=PredictResponse,
        tags=["model"],
        responses={
            413: _AUTH_ERRORS[413],
            422: _AUTH_ERRORS[422],
            503: {"model": ErrorBody, "description": "No trained model yet."},
        },
    )
    def predict(body: PredictRequest) -> PredictResponse:
        """Label one text (`text`) or up to 128 (`texts`) with the champion ensemble."""
        model = current_model()
        return PredictResponse(
            model_version=str(getattr(model, "version", "")),
            predictions=predictions(model, body.all_texts()),
        )

    @app.post(
        "/feedback",
        response_model=FeedbackOut,
        status_code=status.HTTP_201_CREATED,
        tags=["people"],
        dependencies=[Depends(require_token)],
        responses={
            200: {"model": FeedbackOut, "description": "Replay of an earlier key."},
            409: {"model": ErrorBody, "description": "Key reused for another correction."},
            **_AUTH_ERRORS,
        },
    )
    def feedback(
        body: FeedbackRequest,
        response: Response,
    ) -> FeedbackOut:
        """Store a correction once per idempotency key (201; a replay answers 200)."""
        old_label, version, confidence = body.old_label, body.model_version, body.confidence
        if old_label is None and body.text is not None:
            model = champion.current()
            if model is not None:
                guess = predictions(model, [body.text])[0]
                old_label = guess.label
                version, confidence = str(getattr(model, "version", "")), guess.confidence
        item = FeedbackInput(
            new_label=body.new_label,
            reviewer=body.reviewer,
            idempotency_key=body.idempotency_key,
            text=body.text,
            board_id=body.board_id,
            post_id=body.post_id,
            old_label=old_label,
            comment=body.comment,
            model_version=version,
            confidence=confidence,
            source="api",
        )
        try:
            row, created = store.add(item)
        except IdempotencyConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        except FeedbackError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
        if not created:
            response.status_code = status.HTTP_200_OK
        return _feedback_out(row, created)

    def serving_version() -> str | None:
        # current(), not .model: it notices a promotion, so the queue follows the new champion.
        return getattr(champion.current(), "version", None)

    def read_queue(
        where: review_queue.QueueFilter, include_reviewed: bool, preferred: str | None
    ) -> ReviewQueue:
        if not lakehouse.exists():
            return ReviewQueue(model_version=None, total=0, reviewed=0, items=[])
        reviewed = pd.DataFrame(
            list(store.reviews()), columns=pd.Index(["board_id", "post_id"]), dtype="int64"
        )
        version, frame, total, done = reader.run(
            lambda lake: review_queue.rank(
                lake,
                where,
                reviewed,
                include_reviewed=include_reviewed,
                preferred_version=preferred,
            )
        )
        items = []
        for _, row in frame.iterrows():
            items.append(
                QueueItem(
                    board_id=int(row["board_id"]),
                    post_id=int(row["post_id"]),
                    title=_present(row.get("title")),
                    board_name=_present(row.get("board_name")),
                    job=_present(row.get("job")),
                    posted_at=_present(row.get("posted_at")),
                    label=cast(Label, str(row["label"])),
                    confidence=float(row["confidence"]),
                    disagreement=float(row["disagreement"]),
                    label_error=float(row["label_error"]),
                    score=float(row["score"]),
                    probabilities={
                        "부정": float(row["p_neg"]),
                        "중립": float(row["p_neu"]),
                        "긍정": float(row["p_pos"]),
                    },
                    member_labels=review_queue.member_labels(row),
                    reviewed=bool(row["reviewed"]),
                    injection_suspected=bool(row["injection_suspected"]),
                    reason=str(row["reason"]),
                )
            )
        return ReviewQueue(model_version=version, total=total, reviewed=done, items=items)

    @app.get("/review-queue", response_model=ReviewQueue, tags=["people"])
    def get_review_queue(
        board_id: Annotated[int | None, Query(ge=0, description="Only this board.")] = None,
        job: Annotated[str | None, Query(max_length=50, description="Only this job.")] = None,
        since: Annotated[
            datetime | None, Query(description="Posted at or after (no zone: UTC).")
        ] = None,
        until: Annotated[
            datetime | None, Query(description="Posted before (no zone: UTC).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        include_reviewed: bool = False,
    ) -> ReviewQueue:
        """Posts ranked by uncertainty, member disagreement and label-error score."""
        where = review_queue.QueueFilter(board_id, job, since, until, limit)
        preferred = serving_version()
        key = (board_id, job, since, until, limit, include_reviewed, preferred)
        return cache.get(key, lambda: read_queue(where, include_reviewed, preferred))

    @app.post(
        "/review",
        response_model=ReviewOut,
        tags=["people"],
        dependencies=[Depends(require_token)],
        responses={
            404: {"model": ErrorBody, "description": "The post has no prediction to review."},
            409: {"model": ErrorBody, "description": "Key reused for another correction."},
            **_AUTH_ERRORS,
        },
    )
    def review(body: ReviewRequest) -> ReviewOut:
        """Accept the model's label for a queued post or correct it; marks it reviewed."""
        shown = None
        if lakehouse.exists():
            preferred = serving_version()
            shown = reader.run(
                lambda lake: review_queue.shown_prediction(
                    lake, body.board_id, body.post_id, preferred_version=preferred
                )
            )
        if shown is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"post {body.board_id}/{body.post_id} has no prediction to review",
            )
        try:
            result = store.review(
                board_id=body.board_id,
                post_id=body.post_id,
                decision=body.decision,
                reviewer=body.reviewer,
                shown_label=shown.label,
                corrected_label=body.corrected_label,
                model_version=shown.model_version,
                confidence=shown.confidence,
                comment=body.comment,
                idempotency_key=body.idempotency_key,
            )
        except IdempotencyConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        except FeedbackError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
        cache.clear()
        r = result.review
        return ReviewOut(
            board_id=r.board_id,
            post_id=r.post_id,
            reviewed=r.reviewed,
            decision=r.decision,
            label=r.label,
            reviewer=r.reviewer,
            feedback_id=r.feedback_id,
            reviewed_at=r.reviewed_at,
            created=result.created,
        )

    return app
