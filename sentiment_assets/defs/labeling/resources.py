"""The `llm` resource: which labeler labels, and how hard it may push the server."""

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import Field

from sentiment_assets.lib.labeling.config import LabelerConfig, build_labeler
from sentiment_assets.lib.labeling.labeler import Labeler
from sentiment_assets.lib.labeling.weak import DEFAULT_LOADER

LLM_POOL = "llm_api"
"""The pool of steps that call an LLM (limit 1 in dagster.yaml): they run outside the
`lakehouse` pool, so a slow model never holds up the lake's writers."""


class LlmResource(dg.ConfigurableResource):
    """The labeler: an OpenAI-compatible server, Gemini, or (no LLM configured) the ensemble.

    Bound from the environment by `defs()` below: SENTIMENT_LLM_PROVIDER, SENTIMENT_LLM_BASE_URL,
    SENTIMENT_LLM_MODEL and SENTIMENT_LLM_API_KEY (Gemini also finds GEMINI_API_KEY or
    GOOGLE_API_KEY by itself). Keys are passed as `EnvVar`s, so Dagster shows the variable's name
    and never its value.
    """

    provider: str = Field(default="weak", description="openai | gemini | weak")
    base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible: the URL up to /v1 (LM Studio http://127.0.0.1:1234/v1, "
        "Ollama http://127.0.0.1:11434/v1). Gemini: only to use a proxy.",
    )
    model: str | None = Field(
        default=None, description="Model name; Gemini defaults to gemini-2.5-flash."
    )
    api_key: str | None = Field(default=None, description="Bearer/API key (use an EnvVar).")
    batch_size: int = Field(default=20, description="Posts per request.")
    concurrency: int = Field(
        default=4, description="Requests in flight at once (the llm_api bound of this process)."
    )
    max_attempts: int = Field(default=3, description="Answers asked for per post before giving up.")
    max_retries: int = Field(default=4, description="Transport retries per request (429/5xx/...).")
    base_delay_s: float = Field(
        default=1.0, description="First backoff when the server gives none."
    )
    max_delay_s: float = Field(default=60.0, description="Longest wait between retries.")
    timeout_s: float = Field(default=60.0, description="Per-request timeout.")
    temperature: float = 0.0
    max_requests: int | None = Field(default=None, description="Per-run request budget.")
    max_tokens: int | None = Field(default=None, description="Per-run token budget (in + out).")
    price_input_per_mtok: float | None = Field(
        default=None, description="USD per million input tokens; overrides the price table."
    )
    price_output_per_mtok: float | None = Field(
        default=None, description="USD per million output tokens; overrides the price table."
    )
    thinking_budget: int | None = Field(
        default=None, description="Gemini 2.5 thinking tokens (0 turns thinking off on Flash)."
    )
    use_cache: bool = Field(default=True, description="Serve repeated texts from the cache.")
    track_usage: bool = Field(
        default=True, description="Log each run's usage and cost to MLflow (models/mlflow.db)."
    )
    weak_loader: str = Field(
        default=DEFAULT_LOADER, description="module:function loading the ensemble (weak labels)."
    )

    def config(self) -> LabelerConfig:
        """The Dagster-free description of this labeler."""
        return LabelerConfig(
            provider=self.provider,
            base_url=self.base_url,
            model=self.model,
            api_key=self.api_key,
            batch_size=self.batch_size,
            concurrency=self.concurrency,
            max_attempts=self.max_attempts,
            max_retries=self.max_retries,
            base_delay_s=self.base_delay_s,
            max_delay_s=self.max_delay_s,
            timeout_s=self.timeout_s,
            temperature=self.temperature,
            max_requests=self.max_requests,
            max_tokens=self.max_tokens,
            price_input_per_mtok=self.price_input_per_mtok,
            price_output_per_mtok=self.price_output_per_mtok,
            thinking_budget=self.thinking_budget,
            use_cache=self.use_cache,
            weak_loader=self.weak_loader,
        )

    def build(
        self, *, cache_dir: Path, models_root: Path, log: Callable[[str], None] | None = None
    ) -> Labeler:
        """The labeler, ready to use; close it when done.

        Raises:
            LabelingConfigError: misconfiguration, or weak labeling without a trained ensemble.
        """
        # The resource, not the asset, reads the environment: the Gemini key may come from
        # GEMINI_API_KEY/GOOGLE_API_KEY without ever entering run config.
        return build_labeler(
            self.config(), cache_dir=cache_dir, models_root=models_root, environ=os.environ, log=log
        )


def _from_env(variable: str, default: str | None) -> str | None:
    # An EnvVar for an unset variable fails at launch, so only variables that are set are bound.
    return dg.EnvVar(variable) if os.environ.get(variable) else default


@dg.definitions
def defs() -> dg.Definitions:
    """Bind `llm` to the environment's settings; with none, the ensemble labels (weak)."""
    return dg.Definitions(
        resources={
            "llm": LlmResource(
                provider=_from_env("SENTIMENT_LLM_PROVIDER", "weak") or "weak",
                base_url=_from_env("SENTIMENT_LLM_BASE_URL", None),
                model=_from_env("SENTIMENT_LLM_MODEL", None),
                api_key=_from_env("SENTIMENT_LLM_API_KEY", None),
            )
        }
    )
