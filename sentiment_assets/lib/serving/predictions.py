"""The champion ensemble's answers as the API returns them."""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.serving.schemas import LexiconWord, MemberVote, Prediction


def _probs(row: np.ndarray) -> dict[str, float]:
    return {label: float(p) for label, p in zip(LABELS, row, strict=True)}


def _lexicon_words(model: Any, text: str) -> list[LexiconWord]:
    member = getattr(model, "members", {}).get("lexicon")
    if member is None or not hasattr(member, "explain"):
        return []
    return [LexiconWord.model_validate(w) for w in member.explain(text).get("words", [])]


def predictions(model: Any, texts: list[str], *, explain: bool = False) -> list[Prediction]:
    """The ensemble's answers for `texts`, each with its members' votes.

    With `explain`, each answer also names the lexicon words that pushed hardest toward it
    (an empty list when the ensemble has no lexicon member).
    """
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
                lexicon_words=_lexicon_words(model, text) if explain else None,
            )
        )
    return out
