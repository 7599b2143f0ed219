"""Request and response bodies of the serving API; their constraints are the input validation.

Texts are screened as `lib/text/untrusted.py` says (no unpaired surrogates, control or
bidirectional-override characters, and at least one visible character), so what is stored is
what a reviewer sees. Who wrote a label, and which prediction it corrects, are never taken
from a request: the reviewer is the owner of the bearer token, and the old label, model version
and confidence come from the champion or the lake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sentiment_assets.lib.text.untrusted import is_blank, refusal

MAX_TEXT_CHARS = 20_000
"""Longest text accepted: a long Inven post fits. The models read its first 512 characters
after normalisation (`lib/text/normalize.py`); the store keeps all of it."""
MAX_BATCH = 128
"""Most texts one /predict call may carry."""
MAX_ID = 2**63 - 1
"""Largest board or post id: SQLite's and DuckDB's BIGINT."""

Label = Literal["부정", "중립", "긍정"]


def _screened(value: str) -> str:
    if (why := refusal(value)) is not None:
        raise ValueError(f"text {why}")
    return value


def _visible(value: str) -> str:
    _screened(value)
    if is_blank(value):
        raise ValueError("text shows no visible character (only spaces or invisible ones)")
    return value


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), AfterValidator(_visible)]
"""A text to score or label: non-empty, visible, screened."""
Comment = Annotated[str, Field(max_length=1_000), AfterValidator(_screened)]
Id = Annotated[int, Field(ge=0, le=MAX_ID)]

SERVER_SIDE = {
    "reviewer": "the reviewer is the owner of the bearer token",
    "old_label": "the label being corrected is the champion's (for a post, its stored prediction)",
    "model_version": "the model version is the one whose prediction is corrected",
    "confidence": "the confidence is that prediction's",
}
"""Fields older clients sent that the API now fills in itself, and why."""


class _Strict(BaseModel):
    # Unknown fields are a client mistake worth a 422, and blank strings are empty strings.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _nothing_the_server_decides(cls, data: Any) -> Any:
        if isinstance(data, dict):
            sent = [name for name in SERVER_SIDE if name in data]
            if sent:
                raise ValueError(
                    f"do not send {', '.join(sent)}: "
                    + "; ".join(SERVER_SIDE[name] for name in sent)
                )
        return data


class PredictRequest(_Strict):
    """One text or a batch of texts; exactly one of the two."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"text": "이번 패치 보스 보상 너무 좋다"}, {"texts": ["노잼", "괜찮네요"]}]
        },
    )

    text: Text | None = None
    texts: list[Text] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)
    explain: bool = Field(
        default=False, description="Add the lexicon words that pushed hardest toward the label."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of `text` or `texts`")
        return self

    def all_texts(self) -> list[str]:
        """The texts to score, in order."""
        return [self.text] if self.text is not None else [t.strip() for t in self.texts or []]


class MemberVote(BaseModel):
    """One ensemble member's calibrated view of a text."""

    label: Label
    probabilities: dict[str, float]
    agrees: bool = Field(description="Whether this member's label is the ensemble's label.")


class LexiconWord(BaseModel):
    """A known word of the text and how it pushed the lexicon member."""

    word: str
    polarity: float = Field(description="positive minus negative score")
    contribution: float = Field(description="its share of the predicted class's logit")


class Prediction(BaseModel):
    """The ensemble's answer for one text."""

    text: str
    status: Literal["ok", "empty"] = Field(
        description="`empty`: nothing was left after normalisation, so no label is given."
    )
    label: Label | None
    confidence: float | None
    disagreement: float | None
    probabilities: dict[str, float] | None
    members: dict[str, MemberVote]
    lexicon_words: list[LexiconWord] | None = Field(
        default=None, description="With `explain`: the words that pushed hardest, first."
    )


class PredictResponse(BaseModel):
    """Predictions in request order and the model version that made them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_version": "20250101T000000000000Z",
                    "predictions": [
                        {
                            "text": "이번 패치 보스 보상 너무 좋다",
                            "status": "ok",
                            "label": "긍정",
                            "confidence": 0.83,
                            "disagreement": 0.12,
                            "probabilities": {"부정": 0.05, "중립": 0.12, "긍정": 0.83},
                            "members": {},
                        }
                    ],
                }
            ]
        }
    )

    model_version: str
    predictions: list[Prediction]


class FeedbackRequest(_Strict):
    """A correction: the right label for a free text or for a crawled post.

    The reviewer is the owner of the bearer token. The label being corrected, with its model
    version and confidence, is the champion's prediction for a text and the stored prediction
    (the champion's, else the newest) for a post.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "text": "이번 패치 보스 보상 너무 좋다",
                    "new_label": "긍정",
                    "idempotency_key": "8f14e45f-ceea-467f-a0e6-7d1b3c9e2a10",
                },
                {
                    "board_id": 2294,
                    "post_id": 123456,
                    "new_label": "부정",
                    "comment": "sarcasm",
                    "idempotency_key": "c9f0f895-fb98-4b91-9c5b-12d43f0b8a11",
                },
            ]
        },
    )

    text: Text | None = None
    board_id: Id | None = None
    post_id: Id | None = None
    new_label: Label
    comment: Comment | None = None
    source: Literal["api", "review-app"] = Field(
        default="api",
        description="The client the person used (provenance only).",
    )
    idempotency_key: str = Field(
        min_length=1,
        max_length=200,
        description="Client-chosen; a retry with the same key returns the first stored row.",
    )

    @model_validator(mode="after")
    def _target(self) -> Self:
        has_post = self.board_id is not None and self.post_id is not None
        if self.text is None and not has_post:
            raise ValueError("give `text`, or both `board_id` and `post_id`")
        if (self.board_id is None) != (self.post_id is None):
            raise ValueError("`board_id` and `post_id` go together")
        return self


class FeedbackOut(BaseModel):
    """A stored correction."""

    id: int
    created: bool = Field(description="False when this was a replay of an earlier key.")
    text: str | None
    board_id: int | None
    post_id: int | None
    old_label: str | None
    new_label: str
    reviewer: str
    comment: str | None
    model_version: str | None
    confidence: float | None
    source: str
    created_at: str


class ReviewRequest(_Strict):
    """A reviewer's decision on a queued post: accept the model's label or correct it.

    The reviewer is the owner of the bearer token; the label, model version and confidence the
    decision is about are the post's stored prediction.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "board_id": 2294,
                    "post_id": 123456,
                    "decision": "correct",
                    "corrected_label": "중립",
                    "idempotency_key": "45c48cce-2e2d-4fbd-a1b4-3f2e8e1d7c12",
                }
            ]
        },
    )

    board_id: Id
    post_id: Id
    decision: Literal["accept", "correct"]
    corrected_label: Label | None = None
    comment: Comment | None = None
    source: Literal["api", "review-app"] = Field(
        default="api",
        description="The client the person used (provenance only).",
    )
    idempotency_key: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _label_matches_decision(self) -> Self:
        if self.decision == "correct" and self.corrected_label is None:
            raise ValueError("a correction needs `corrected_label`")
        return self


class ReviewOut(BaseModel):
    """The post's review state after the decision."""

    board_id: int
    post_id: int
    reviewed: bool
    decision: str
    label: str
    reviewer: str
    feedback_id: int | None
    reviewed_at: str
    created: bool


class QueueItem(BaseModel):
    """One post to review, with why it ranks where it does."""

    board_id: int
    post_id: int
    title: str | None = None
    body: str | None = Field(default=None, description="The post's text, as crawled.")
    board_name: str | None = None
    job: str | None = None
    posted_at: datetime | None = None
    label: Label
    confidence: float
    disagreement: float
    label_error: float
    score: float = Field(description="uncertainty + disagreement + label_error, higher first")
    probabilities: dict[str, float]
    member_labels: dict[str, str] = Field(
        description="each member's label, from the scorer's member_probabilities"
    )
    reviewed: bool
    injection_suspected: bool = Field(
        default=False,
        description="the post reads like instructions to the LLM labeler: ranked first, its LLM "
        "label kept aside until a person labels it",
    )
    reason: str = Field(default="", description="why the post ranks where it does")


class ReviewQueue(BaseModel):
    """The ranked queue and review progress over every post matching the filters."""

    model_version: str | None
    total: int
    reviewed: int
    items: list[QueueItem]


class Health(BaseModel):
    """Liveness plus what is being served."""

    status: Literal["ok"]
    model_version: str | None
    model_error: str | None
    feedback_rows: int
    unconsumed_feedback: int


class Me(BaseModel):
    """Who the bearer token belongs to."""

    reviewer: str
    token_created_at: str


class AuditEntry(BaseModel):
    """One write of a human label: who, when, which post or text, from which label to which."""

    id: int
    at: str
    who: str
    action: str = Field(description="`feedback` (a correction), `accept` or `correct`")
    feedback_id: int | None
    board_id: int | None
    post_id: int | None
    old_label: str | None
    new_label: str | None
    model_version: str | None
    confidence: float | None


class ErrorBody(BaseModel):
    """Every error response: a human-readable reason."""

    detail: str | list[dict[str, object]]
