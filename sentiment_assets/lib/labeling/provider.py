"""The interface every LLM client implements: one request in, one answer text out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sentiment_assets.lib.labeling.prompt import LabelRequest


@dataclass(frozen=True)
class ProviderAnswer:
    """What came back for one request, before validation."""

    text: str | None
    """The model's output text; validated by `schema.check_answer`, never trusted as is."""
    tokens_in: int
    tokens_out: int
    finish_reason: str | None = None


class Provider(Protocol):
    """An LLM endpoint. `send` makes exactly one HTTP request and never retries by itself."""

    @property
    def name(self) -> str:
        """Provider name recorded on every row ("openai", "gemini")."""
        ...

    @property
    def model(self) -> str:
        """The model asked."""
        ...

    @property
    def base_url(self) -> str | None:
        """Where requests go (None: the vendor's default endpoint)."""
        ...

    def params(self) -> dict[str, Any]:
        """Generation parameters that can change an answer (part of the cache key)."""
        ...

    def send(self, request: LabelRequest, *, max_output_tokens: int) -> ProviderAnswer:
        """Send `request` once; raise `ProviderError` when no answer could be read."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
