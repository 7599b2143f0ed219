"""Any OpenAI-compatible `/v1/chat/completions` server: LM Studio, Ollama, vLLM, llama.cpp, OpenAI.

Structured output is asked for with `response_format: {"type": "json_schema", ...}` (what LM
Studio, vLLM and llama.cpp enforce). A server that rejects that (HTTP 400/422) is asked again
with `{"type": "json_object"}`, and one that rejects that too gets no `response_format` at all;
the fallback sticks for the rest of the client's life. Whatever the mode, the answer is
validated by `schema.check_answer`: some servers accept the field and ignore it.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import httpx

from sentiment_assets.lib.labeling.errors import FormatRejectedError, ProviderError
from sentiment_assets.lib.labeling.prompt import LabelRequest
from sentiment_assets.lib.labeling.provider import ProviderAnswer
from sentiment_assets.lib.labeling.retry import RETRYABLE_STATUS, parse_retry_after
from sentiment_assets.lib.labeling.schema import answer_json_schema

FormatMode = Literal["json_schema", "json_object", "none"]
_NEXT_MODE: dict[FormatMode, FormatMode] = {"json_schema": "json_object", "json_object": "none"}
_BODY_KEEP = 4000


class OpenAICompatProvider:
    """A client for one model on one OpenAI-compatible server."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        temperature: float = 0.0,
        format_mode: FormatMode = "json_schema",
    ):
        """Point at `base_url` (including `/v1`, e.g. http://127.0.0.1:1234/v1 for LM Studio)."""
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature = temperature
        self.timeout_s = timeout_s
        self._mode: FormatMode = format_mode
        self._mode_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout_s)
        )

    @property
    def format_mode(self) -> FormatMode:
        """The structured-output mode requests are sent with now."""
        return self._mode

    def params(self) -> dict[str, Any]:
        """Generation parameters that can change an answer."""
        return {"temperature": self.temperature}

    def _body(self, request: LabelRequest, mode: FormatMode, max_output_tokens: int) -> dict:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            "temperature": self.temperature,
            "max_tokens": max_output_tokens,
            "stream": False,
        }
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "sentiment_labels",
                    "strict": True,
                    "schema": answer_json_schema(request.ids),
                },
            }
        elif mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def _downgrade(self, rejected: FormatMode) -> FormatMode | None:
        with self._mode_lock:
            if self._mode == rejected and rejected in _NEXT_MODE:
                self._mode = _NEXT_MODE[rejected]
            return self._mode if self._mode != rejected else None

    def send(self, request: LabelRequest, *, max_output_tokens: int) -> ProviderAnswer:
        """Send `request` once; raise `ProviderError` when no answer could be read."""
        mode = self._mode
        try:
            response = self._client.post(
                "/chat/completions", json=self._body(request, mode, max_output_tokens)
            )
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"no answer within {self.timeout_s:g}s ({type(exc).__name__})",
                retryable=True,
                body=str(exc),
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderError(
                f"connection to {self.base_url} failed: {exc}", retryable=True, body=str(exc)
            ) from exc
        body = response.text[:_BODY_KEEP]
        status = response.status_code
        if status in (400, 422) and mode != "none":
            fallback = self._downgrade(mode)
            if fallback is not None:
                raise FormatRejectedError(
                    f"HTTP {status}: the server rejected response_format {mode}; "
                    f"retrying with {fallback}",
                    retryable=True,
                    retry_after=0.0,
                    status=status,
                    body=body,
                )
        if status >= 400:
            raise ProviderError(
                f"HTTP {status} from {self.base_url}/chat/completions",
                retryable=status in RETRYABLE_STATUS,
                retry_after=parse_retry_after(response.headers),
                status=status,
                body=body,
            )
        try:
            data = response.json()
            choice = data["choices"][0]
            content = choice["message"].get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ProviderError(
                f"unreadable chat-completions response ({type(exc).__name__}: {exc})",
                retryable=True,
                status=status,
                body=body,
            ) from exc
        if isinstance(content, list):
            # Some servers return content parts; only the text parts carry the answer.
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        usage = data.get("usage") or {}
        return ProviderAnswer(
            text=content if isinstance(content, str) else None,
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
            finish_reason=choice.get("finish_reason"),
        )

    def close(self) -> None:
        """Release connections."""
        self._client.close()
