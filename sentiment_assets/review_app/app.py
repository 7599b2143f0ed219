"""The review app (Streamlit): analyse a sentence, correct it, and work through the review queue.

Run with `sentiment review-app`. Corrections and review decisions go to the feedback store
(SQLite, WAL) like the API's, with source `review-app`; the queue is read from the lakehouse.
Every write carries an idempotency key derived from this browser session and the decision, so a
double click or a rerun never stores a correction twice.
"""

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from sentiment_assets.lib.feedback.store import FeedbackError, FeedbackInput, FeedbackStore
from sentiment_assets.lib.feedback.store import default_path as store_path
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LABELS, ModelLoadError
from sentiment_assets.lib.models.ensemble import NAME as ENSEMBLE
from sentiment_assets.lib.registry import load_champion
from sentiment_assets.lib.serving import review_queue
from sentiment_assets.lib.settings import Paths


@st.cache_resource(max_entries=2)
def _model(models_root: str, marker: int) -> Any:
    """The registry's champion; a new `marker` (see `_models_marker`) makes a new cache entry."""
    del marker
    return load_champion(Path(models_root))


def _models_marker(models_root: Path) -> int:
    """The ensemble folder's modification time, 0 when nothing was saved yet.

    A new save and every move of the champion alias (promotion, rollback) change it, as the
    serving API relies on too; a `stat` per rerun is cheap where asking the registry is not.
    """
    try:
        return (models_root / ENSEMBLE).stat().st_mtime_ns
    except OSError:
        return 0


def _key(*parts: object) -> str:
    raw = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _lexicon_words(model: Any, text: str) -> list[dict[str, Any]]:
    member = getattr(model, "members", {}).get("lexicon")
    if member is None or not hasattr(member, "explain"):
        return []
    return list(member.explain(text).get("words", []))


paths = Paths.from_env()
store = FeedbackStore(store_path(paths.warehouse))
session_id = st.session_state.setdefault("session_id", uuid.uuid4().hex)

st.set_page_config(page_title="maple-sentiment review", layout="wide")
st.title("maple-sentiment review")

marker = _models_marker(paths.models)
model = None
model_error = None
if marker:
    try:
        model = _model(str(paths.models), marker)
    except ModelLoadError as exc:
        model_error = str(exc)
version = getattr(model, "version", None)
st.caption(f"model version: {version or 'none loaded'}")
if model_error:
    st.error(f"the newest model could not be loaded: {model_error}")

reviewer = st.sidebar.text_input("reviewer", key="reviewer").strip()
if not reviewer:
    st.sidebar.info("enter your name to save corrections and reviews")

analysis, queue_tab, audit_tab = st.tabs(["analyse", "review queue", "audit trail"])

with analysis:
    text = st.text_area("text", key="text", max_chars=2000).strip()
    prediction = None
    if text and model is not None:
        result = model.predict([text])
        if result.status[0] == "ok":
            label = LABELS[int(result.proba[0].argmax())]
            prediction = (label, float(result.confidence[0]))
            st.markdown(f"**label: {label}** · confidence {result.confidence[0]:.2f}")
            st.dataframe(
                pd.DataFrame(
                    {"ensemble": result.proba[0]}
                    | {name: p[0] for name, p in result.members.items()},
                    index=pd.Index(LABELS),
                )
            )
            agree = [n for n, p in result.members.items() if LABELS[int(p[0].argmax())] == label]
            st.markdown(f"members agreeing: {', '.join(agree) or 'none'}")
            words = _lexicon_words(model, text)
            if words:
                st.markdown(
                    "lexicon words: "
                    + ", ".join(f"{w['word']} ({w['polarity']:+.2f})" for w in words)
                )
        else:
            st.warning("nothing is left of this text after normalisation")
    elif text:
        st.info("no trained model yet; you can still record the right label")
    corrected = st.selectbox("correct label", LABELS, key="correct_label")
    if st.button("save correction", key="save_correction", disabled=not (text and reviewer)):
        try:
            row, created = store.add(
                FeedbackInput(
                    new_label=corrected,
                    reviewer=reviewer,
                    idempotency_key=_key(session_id, "text", text, corrected),
                    text=text,
                    old_label=prediction[0] if prediction else None,
                    confidence=prediction[1] if prediction else None,
                    model_version=version,
                    source="review-app",
                )
            )
        except FeedbackError as exc:
            st.error(str(exc))
        else:
            st.success(f"correction {row.id} {'saved' if created else 'was already saved'}")

with queue_tab:
    lake = Lakehouse(paths.warehouse)
    board = st.number_input("board id (0 = all)", min_value=0, value=0, step=1, key="board")
    job = st.text_input("job", key="job").strip() or None
    # Reviewed posts stay findable (to see or revise a decision), flagged in the `reviewed` column.
    show_reviewed = st.checkbox("show reviewed posts", key="show_reviewed")
    frame, total, done, queue_version = pd.DataFrame(), 0, 0, None
    if lake.exists():
        reviewed = pd.DataFrame(
            list(store.reviews()), columns=pd.Index(["board_id", "post_id"]), dtype="int64"
        )
        with lake.session() as session:
            queue_version, frame, total, done = review_queue.rank(
                session,
                review_queue.QueueFilter(board_id=int(board) or None, job=job, limit=50),
                reviewed,
                include_reviewed=show_reviewed,
                preferred_version=version,
            )
    st.progress(done / total if total else 0.0, text=f"reviewed {done} of {total}")
    if frame.empty:
        st.info("nothing waits for review")
    else:
        shown = frame[
            ["board_id", "post_id", "label", "confidence", "disagreement", "score", "reviewed"]
        ].assign(
            members=[
                ", ".join(f"{m} {lab}" for m, lab in review_queue.member_labels(r).items())
                for _, r in frame.iterrows()
            ],
            reason=frame["reason"],
        )
        st.dataframe(shown, hide_index=True)
        choices = [f"{b}/{p}" for b, p in zip(frame["board_id"], frame["post_id"], strict=True)]
        picked = st.selectbox("post", choices, key="post")
        row = frame.iloc[choices.index(picked)]
        st.markdown(f"model says **{row['label']}** ({row['confidence']:.2f})")
        if row["injection_suspected"]:
            st.warning(row["reason"])
        else:
            st.caption(f"why here: {row['reason']}")
        votes = review_queue.member_labels(row)
        if votes:
            st.markdown("members: " + ", ".join(f"{m} **{lab}**" for m, lab in votes.items()))
        queue_label = st.selectbox("corrected label", LABELS, key="queue_label")
        accept = st.button("accept", key="accept", disabled=not reviewer)
        correct = st.button("correct", key="correct", disabled=not reviewer)
        if accept or correct:
            decision = "accept" if accept else "correct"
            try:
                store.review(
                    board_id=int(row["board_id"]),
                    post_id=int(row["post_id"]),
                    decision=decision,
                    reviewer=reviewer,
                    shown_label=str(row["label"]),
                    corrected_label=queue_label if correct else None,
                    model_version=queue_version,
                    confidence=float(row["confidence"]),
                    idempotency_key=_key(session_id, "review", picked, decision, queue_label),
                    source="review-app",
                )
            except FeedbackError as exc:
                st.error(str(exc))
            else:
                st.success(f"{picked}: {decision}ed")

with audit_tab:
    st.dataframe(pd.DataFrame(store.audit_trail(limit=50)), hide_index=True)
