"""Cost estimates from a small price table (USD per million tokens), overridable by config.

Prices change; these are list prices for standard (non-batch) requests as published by the
vendors in 2025 and are estimates only. Models served by a local OpenAI-compatible server
(LM Studio, Ollama, vLLM, llama.cpp on the same machine) cost nothing per token here. A model
with no known price gets no estimate (None) rather than a made-up zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

PRICES_USD_PER_MTOK: dict[str, tuple[float, float]] = {
    # model: (input, output)
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.0-flash": (0.10, 0.40),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """Estimated USD for one request."""
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


def price_for(
    model: str,
    *,
    base_url: str | None = None,
    override: tuple[float, float] | None = None,
) -> Price | None:
    """The price of `model`: the override, the table, free on a loopback server, else None."""
    if override is not None:
        return Price(*override)
    name = model.removeprefix("models/")
    if name in PRICES_USD_PER_MTOK:
        return Price(*PRICES_USD_PER_MTOK[name])
    if base_url and urlparse(base_url).hostname in _LOCAL_HOSTS:
        return Price(0.0, 0.0)
    return None
