"""Gemini through the google-genai SDK, with a response schema.

The SDK's own retries are left off (no `retry_options`): retries, their waits and the budget are
ours, so a 429's `RetryInfo.retryDelay` is honoured and every retry is counted. `response.parsed`
is not used: it silently becomes None on truncated JSON (googleapis/python-genai#2312); the
answer text goes through `schema.check_answer` like every other provider's. The API key is
handed to the SDK and nowhere else: it never appears in an error, a log line or a row.
"""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from sentiment_assets.lib.labeling.errors import ProviderError
from sentiment_assets.lib.labeling.prompt import LabelRequest
from sentiment_assets.lib.labeling.provider import ProviderAnswer
from sentiment_assets.lib.labeling.retry import (
    RETRYABLE_STATUS,
    parse_gemini_retry_delay,
    parse_retry_after,
)
from sentiment_assets.lib.labeling.schema import RATIONALE_MAX_CHARS
from sentiment_assets.lib.models.base import LABELS

DEFAULT_MODEL = "gemini-2.5-flash"
_BODY_KEEP = 4000
# google-genai sends through httpx2 (a fork of httpx) when it is installed, as it is here
# (a dependency of google-genai 3.x); catch both families.
_TIMEOUTS = (httpx.TimeoutException, httpx2.TimeoutException)
_TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError)


def response_schema(ids: tuple[str, ...]) -> types.Schema:
    """The answer schema in Gemini's OpenAPI subset (enum-constrained ids and labels)."""
    item = types.Schema(
        type=types.Type.OBJECT,
        properties={
            "id": types.Schema(type=types.Type.STRING, enum=list(ids)),
            "label": types.Schema(type=types.Type.STRING, enum=list(LABELS)),
            "confidence": types.Schema(type=types.Type.NUMBER, minimum=0.0, maximum=1.0),
            "rationale": types.Schema(type=types.Type.STRING, max_length=RATIONALE_MAX_CHARS),
        },
        required=["id", "label", "confidence", "rationale"],
        property_ordering=["id", "label", "confidence", "rationale"],
    )
    return types.Schema(
        type=types.Type.OBJECT,
        properties={
            "labels": types.Schema(
                type=types.Type.ARRAY, items=item, min_items=len(ids), max_items=len(ids)
            )
        },
        required=["labels"],
    )


class GeminiProvider:
    """A client for one Gemini model."""

    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        temperature: float = 0.0,
        thinking_budget: int | None = None,
    ):
        """Create the SDK client; `base_url` points it at a proxy or a local test server."""
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.thinking_budget = thinking_budget
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(base_url=base_url, timeout=int(timeout_s * 1000)),
        )

    def params(self) -> dict[str, Any]:
        """Generation parameters that can change an answer."""
        return {"temperature": self.temperature, "thinking_budget": self.thinking_budget}

    def _config(self, request: LabelRequest, max_output_tokens: int) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            system_instruction=request.system,
            response_mime_type="application/json",
            response_schema=response_schema(request.ids),
            temperature=self.temperature,
            max_output_tokens=max_output_tokens,
            thinking_config=(
                types.ThinkingConfig(thinking_budget=self.thinking_budget)
                if self.thinking_budget is not None
                else None
            ),
        )

    def send(self, request: LabelRequest, *, max_output_tokens: int) -> ProviderAnswer:
        """Send `request` once; raise `ProviderError` when no answer could be read."""
        try:
            response = self._client.models.generate_content(
                model=self.model,
                contents=request.user,
                config=self._config(request, max_output_tokens),
            )
        except genai_errors.APIError as exc:
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            retry_after = parse_gemini_retry_delay(exc.details)
            if retry_after is None:
                retry_after = parse_retry_after(dict(headers))
            raise ProviderError(
                f"Gemini HTTP {exc.code} {exc.status or ''}".rstrip(),
                retryable=exc.code in RETRYABLE_STATUS,
                retry_after=retry_after,
                status=exc.code,
                body=str(exc.details)[:_BODY_KEEP],
            ) from exc
        except _TIMEOUTS as exc:
            raise ProviderError(
                f"no answer within {self.timeout_s:g}s ({type(exc).__name__})",
                retryable=True,
                body=str(exc),
            ) from exc
        except _TRANSPORT_ERRORS as exc:
            raise ProviderError(
                f"connection to Gemini failed: {exc}", retryable=True, body=str(exc)
            ) from exc
        usage = response.usage_metadata
        tokens_in = (usage.prompt_token_count or 0) if usage else 0
        tokens_out = (
            ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0))
            if usage
            else 0
        )
        candidates = response.candidates or []
        finish = candidates[0].finish_reason if candidates else None
        return ProviderAnswer(
            text=response.text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            finish_reason=str(finish.value) if finish is not None else None,
        )

    def close(self) -> None:
        """Release connections."""
        self._client.close()
