"""The answer schema sent to providers and the validation every answer goes through.

Servers do not reliably enforce structured output (Ollama ignores `response_format`, Gemini's
`parsed` silently becomes None on truncated JSON), so the answer text is always re-validated here.

Two levels of failure:
- the whole answer is invalid when it is not JSON, not `{"labels": [...]}`, or names an id that
  was not requested or names one twice: such an answer is not answering our question and none of
  its items can be trusted;
- one item is invalid when its id is missing from the answer or its fields break the schema
  (label outside 부정/중립/긍정, confidence outside 0-1 or not a number, rationale missing or
  too long): its siblings keyed by requested ids are still usable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sentiment_assets.lib.models.base import LABELS

RATIONALE_MAX_CHARS = 200
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(?P<body>.*?)\n?```\s*$", re.S)


LabelName = Literal["부정", "중립", "긍정"]
"""The label set as a type; a test pins it to `LABELS`."""


class LabelItem(BaseModel):
    """One post's label as the model must give it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    label: LabelName
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str = Field(min_length=1, max_length=RATIONALE_MAX_CHARS)


@dataclass
class AnswerCheck:
    """The outcome of validating one answer against the ids it was asked about."""

    valid: dict[str, LabelItem] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    """Request id -> why that post got no label from this answer."""
    answer_error: str | None = None
    """Set when the answer as a whole was rejected; then every id is in `invalid`."""
    raw_items: dict[str, Any] = field(default_factory=dict)
    """Request id -> the item exactly as the model wrote it (for the audit trail)."""


def answer_json_schema(ids: Sequence[str]) -> dict[str, Any]:
    """JSON schema of the answer to a request about `ids` (OpenAI-style `json_schema`)."""
    return {
        "type": "object",
        "properties": {
            "labels": {
                "type": "array",
                "minItems": len(ids),
                "maxItems": len(ids),
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "enum": list(ids)},
                        "label": {"type": "string", "enum": list(LABELS)},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "rationale": {"type": "string", "maxLength": RATIONALE_MAX_CHARS},
                    },
                    "required": ["id", "label", "confidence", "rationale"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["labels"],
        "additionalProperties": False,
    }


def _strip_fence(text: str) -> str:
    # JSON-mode fallbacks often wrap the object in a Markdown fence; the content is what counts.
    match = _FENCE.match(text)
    return match.group("body") if match else text


def _reject_all(ids: Sequence[str], reason: str) -> AnswerCheck:
    return AnswerCheck(invalid=dict.fromkeys(ids, reason), answer_error=reason)


def check_answer(text: str | None, ids: Sequence[str]) -> AnswerCheck:
    """Validate the answer `text` to a request about `ids`; nothing invalid is ever repaired."""
    if text is None or not text.strip():
        return _reject_all(ids, "empty answer")
    try:
        payload = json.loads(_strip_fence(text))
    except json.JSONDecodeError as exc:
        return _reject_all(ids, f"malformed JSON: {exc.msg} at char {exc.pos}")
    if not isinstance(payload, dict) or set(payload) != {"labels"}:
        return _reject_all(ids, 'answer is not an object with exactly the key "labels"')
    items = payload["labels"]
    if not isinstance(items, list):
        return _reject_all(ids, '"labels" is not a list')
    requested = set(ids)
    seen: dict[str, Any] = {}
    for item in items:
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str):
            return _reject_all(ids, f"an item has no string id: {json.dumps(item)[:200]}")
        if item_id not in requested:
            return _reject_all(ids, f"answer names an id that was not requested: {item_id!r}")
        if item_id in seen:
            return _reject_all(ids, f"answer names id {item_id!r} more than once")
        seen[item_id] = item
    check = AnswerCheck(raw_items=seen)
    for request_id in ids:
        if request_id not in seen:
            check.invalid[request_id] = "id missing from the answer"
            continue
        try:
            check.valid[request_id] = LabelItem.model_validate(seen[request_id])
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            check.invalid[request_id] = f"item breaks the schema: {problems}"
    return check
