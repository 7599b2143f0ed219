"""The review app (Streamlit): analyse a sentence, correct it, and work through the review queue.

Run with `sentiment review-app` beside `sentiment serve`. The app is a client of the serving
API (SENTIMENT_API_URL, http://127.0.0.1:8000 by default) and nothing else: predictions, the
queue and the audit trail are read from it, and corrections and review decisions are written
through it under the reviewer's own token (`sentiment reviewers create NAME`), so the API
decides who wrote a label and which prediction it corrects. Every write carries an idempotency
key derived from this browser session and the decision, so a double click or a rerun never
stores a correction twice.

Text that came from outside (post titles and bodies, typed text, the API's messages) is shown
with `st.text` or escaped before it reaches Markdown: a post holding HTML, a script or a
Markdown image shows as the characters it holds and never loads or runs anything.
"""

import hashlib
import os
import re
import uuid
from typing import Any

import pandas as pd
import streamlit as st

from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.serving.schemas import MAX_TEXT_CHARS
from sentiment_assets.review_app.client import API_URL_ENV, DEFAULT_API_URL, ApiError, ReviewApi

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain(text: object) -> str:
    """`text` with every Markdown and HTML special character escaped, for Markdown widgets."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _key(*parts: object) -> str:
    raw = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _members(item: dict[str, Any]) -> str:
    return ", ".join(f"{m} {lab}" for m, lab in sorted(item["member_labels"].items()))


def _analysis_tab(
    api: ReviewApi, version: str | None, reviewer: str | None, session_id: str
) -> None:
    """Analyse typed text and save the right label for it."""
    text = st.text_area("text", key="text", max_chars=MAX_TEXT_CHARS).strip()
    if text and version:
        try:
            prediction = api.predict(text)
        except ApiError as exc:
            st.error(plain(exc.message))
        else:
            if prediction["status"] == "ok":
                label = prediction["label"]
                st.markdown(f"**label: {label}** · confidence {prediction['confidence']:.2f}")
                st.dataframe(
                    pd.DataFrame(
                        {"ensemble": prediction["probabilities"]}
                        | {n: v["probabilities"] for n, v in prediction["members"].items()}
                    ).reindex(list(LABELS))
                )
                agree = [n for n, v in prediction["members"].items() if v["agrees"]]
                st.markdown(f"members agreeing: {', '.join(agree) or 'none'}")
                words = prediction.get("lexicon_words") or []
                if words:
                    st.markdown(
                        "lexicon words: "
                        + ", ".join(f"{plain(w['word'])} ({w['polarity']:+.2f})" for w in words)
                    )
            else:
                st.warning("nothing is left of this text after normalisation")
    elif text:
        st.info("no trained model yet; you can still record the right label")
    corrected = st.selectbox("correct label", LABELS, key="correct_label")
    if st.button("save correction", key="save_correction", disabled=not (text and reviewer)):
        try:
            row = api.feedback(
                text=text,
                new_label=corrected,
                idempotency_key=_key(session_id, "text", text, corrected),
            )
        except ApiError as exc:
            st.error(plain(exc.message))
        else:
            st.success(
                f"correction {row['id']} {'saved' if row['created'] else 'was already saved'}"
            )


def _queue_tab(api: ReviewApi, reviewer: str | None, session_id: str) -> None:
    """Work through the review queue: see a post, accept or correct its label."""
    board = st.number_input("board id (0 = all)", min_value=0, value=0, step=1, key="board")
    job = st.text_input("job", key="job").strip() or None
    # Reviewed posts stay findable (to see or revise a decision), flagged in the `reviewed` column.
    show_reviewed = st.checkbox("show reviewed posts", key="show_reviewed")
    try:
        queue = api.queue(
            board_id=int(board) or None, job=job, include_reviewed=show_reviewed, limit=50
        )
    except ApiError as exc:
        st.error(plain(exc.message))
        queue = {"total": 0, "reviewed": 0, "items": []}
    total, done, items = queue["total"], queue["reviewed"], queue["items"]
    st.progress(done / total if total else 0.0, text=f"reviewed {done} of {total}")
    if not items:
        st.info("nothing waits for review")
    else:
        columns = ["board_id", "post_id", "title", "label", "confidence", "disagreement"]
        shown = pd.DataFrame(
            [
                {c: item[c] for c in columns}
                | {
                    "score": item["score"],
                    "reviewed": item["reviewed"],
                    "members": _members(item),
                    "reason": item["reason"],
                }
                for item in items
            ]
        )
        st.dataframe(shown, hide_index=True)
        choices = [f"{i['board_id']}/{i['post_id']}" for i in items]
        picked = st.selectbox("post", choices, key="post")
        item = items[choices.index(picked)]
        # Post text is the community's, not ours: st.text never reads it as Markdown or HTML.
        st.text(item["title"] or "(no title)", width="stretch")
        if item["body"]:
            st.text(item["body"], width="stretch")
        st.markdown(f"model says **{item['label']}** ({item['confidence']:.2f})")
        if item["injection_suspected"]:
            st.warning(item["reason"])  # the API's own words, never the post's
        else:
            st.caption(f"why here: {item['reason']}")
        votes = item["member_labels"]
        if votes:
            st.markdown(
                "members: " + ", ".join(f"{m} **{lab}**" for m, lab in sorted(votes.items()))
            )
        queue_label = st.selectbox("corrected label", LABELS, key="queue_label")
        accept = st.button("accept", key="accept", disabled=not reviewer)
        correct = st.button("correct", key="correct", disabled=not reviewer)
        if accept or correct:
            decision = "accept" if accept else "correct"
            try:
                api.review(
                    board_id=int(item["board_id"]),
                    post_id=int(item["post_id"]),
                    decision=decision,
                    corrected_label=queue_label if correct else None,
                    idempotency_key=_key(session_id, "review", picked, decision, queue_label),
                )
            except ApiError as exc:
                st.error(plain(exc.message))
            else:
                st.success(f"{picked}: {decision}ed")


def _audit_tab(api: ReviewApi, reviewer: str | None) -> None:
    """The newest entries of the audit trail, for a signed-in reviewer."""
    if not reviewer:
        st.info("the audit trail shows once you are signed in with your token")
    else:
        try:
            trail = api.audit(limit=50)
        except ApiError as exc:
            st.error(plain(exc.message))
        else:
            st.dataframe(pd.DataFrame(trail), hide_index=True)


def main() -> None:
    """The page: the reviewer's token in the sidebar, then the three tabs."""
    api_url = os.environ.get(API_URL_ENV) or DEFAULT_API_URL
    session_id = st.session_state.setdefault("session_id", uuid.uuid4().hex)

    st.set_page_config(page_title="maple-sentiment review", layout="wide")
    st.title("maple-sentiment review")

    token = (
        st.sidebar.text_input("your reviewer token", key="token", type="password") or ""
    ).strip()
    api = ReviewApi(api_url, token or None)
    try:
        health = api.health()
    except ApiError as exc:
        st.error(plain(exc.message))
        st.info(f"start the API with `sentiment serve`, or point {API_URL_ENV} at it")
        st.stop()

    version = health["model_version"]
    st.caption(f"model version: {version or 'none loaded'}")
    if health["model_error"]:
        st.error(f"the champion could not be loaded: {plain(health['model_error'])}")

    reviewer = None
    if token:
        try:
            reviewer = api.me()["reviewer"]
        except ApiError as exc:
            st.sidebar.error(plain(exc.message))
        else:
            st.sidebar.success(f"signed in as {plain(reviewer)}")
    else:
        st.sidebar.info(
            "enter the token an operator made for you (`sentiment reviewers create NAME`) to save "
            "corrections and reviews"
        )

    analysis, queue_tab, audit_tab = st.tabs(["analyse", "review queue", "audit trail"])
    with analysis:
        _analysis_tab(api, version, reviewer, session_id)
    with queue_tab:
        _queue_tab(api, reviewer, session_id)
    with audit_tab:
        _audit_tab(api, reviewer)


# Streamlit runs this file as __main__ (so do AppTest and `sentiment review-app`); importing it
# elsewhere, for its path, runs nothing.
if __name__ == "__main__":
    main()
