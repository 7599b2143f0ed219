"""One description of a labeler, built the same way by the Dagster resource and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sentiment_assets.lib.labeling.cache import LabelCache
from sentiment_assets.lib.labeling.costs import price_for
from sentiment_assets.lib.labeling.errors import LabelingConfigError
from sentiment_assets.lib.labeling.gemini import DEFAULT_MODEL as GEMINI_DEFAULT_MODEL
from sentiment_assets.lib.labeling.gemini import GeminiProvider
from sentiment_assets.lib.labeling.labeler import Labeler, LabelerSettings, LlmLabeler
from sentiment_assets.lib.labeling.openai_compat import OpenAICompatProvider
from sentiment_assets.lib.labeling.provider import Provider
from sentiment_assets.lib.labeling.retry import RetryPolicy
from sentiment_assets.lib.labeling.weak import DEFAULT_LOADER, WeakLabeler, load_predictor

PROVIDERS = ("openai", "gemini", "weak")
GEMINI_KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
CACHE_FILE = "llm_cache.sqlite"


@dataclass(frozen=True)
class LabelerConfig:
    """Everything that decides how posts get labeled."""

    provider: str = "weak"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    batch_size: int = 20
    concurrency: int = 4
    max_attempts: int = 3
    max_retries: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    timeout_s: float = 60.0
    temperature: float = 0.0
    max_requests: int | None = None
    max_tokens: int | None = None
    price_input_per_mtok: float | None = None
    price_output_per_mtok: float | None = None
    thinking_budget: int | None = None
    use_cache: bool = True
    weak_loader: str = DEFAULT_LOADER

    def __repr__(self) -> str:
        """Like the dataclass repr, with the API key masked so it never reaches a log."""
        shown = {k: v for k, v in self.__dict__.items() if k != "api_key"}
        shown["api_key"] = "***" if self.api_key else None
        return f"LabelerConfig({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def resolve_api_key(config: LabelerConfig, environ: Mapping[str, str]) -> str | None:
    """The explicit key, else (for Gemini) GEMINI_API_KEY or GOOGLE_API_KEY from `environ`."""
    if config.api_key:
        return config.api_key
    if config.provider == "gemini":
        for name in GEMINI_KEY_VARIABLES:
            if environ.get(name):
                return environ[name]
    return None


def _provider(config: LabelerConfig, environ: Mapping[str, str]) -> Provider:
    if config.provider == "openai":
        if not config.base_url:
            raise LabelingConfigError(
                "provider openai needs base_url, e.g. http://127.0.0.1:1234/v1 (LM Studio) or "
                "http://127.0.0.1:11434/v1 (Ollama)"
            )
        if not config.model:
            raise LabelingConfigError("provider openai needs model (the name the server serves)")
        return OpenAICompatProvider(
            base_url=config.base_url,
            model=config.model,
            api_key=resolve_api_key(config, environ),
            timeout_s=config.timeout_s,
            temperature=config.temperature,
        )
    key = resolve_api_key(config, environ)
    if not key:
        raise LabelingConfigError(
            "provider gemini needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)"
        )
    return GeminiProvider(
        api_key=key,
        model=config.model or GEMINI_DEFAULT_MODEL,
        base_url=config.base_url,
        timeout_s=config.timeout_s,
        temperature=config.temperature,
        thinking_budget=config.thinking_budget,
    )


def build_labeler(
    config: LabelerConfig,
    *,
    cache_dir: Path,
    models_root: Path,
    environ: Mapping[str, str],
    log: Callable[[str], None] | None = None,
) -> Labeler:
    """The labeler `config` describes; the cache file lives in `cache_dir`.

    Raises:
        LabelingConfigError: unknown provider, missing URL/model/key, or (weak) no model.
    """
    if config.provider not in PROVIDERS:
        raise LabelingConfigError(
            f"unknown provider {config.provider!r}; choose one of {', '.join(PROVIDERS)}"
        )
    if config.provider == "weak":
        return WeakLabeler(load_predictor(models_root, config.weak_loader))
    provider = _provider(config, environ)
    override = None
    if config.price_input_per_mtok is not None or config.price_output_per_mtok is not None:
        override = (config.price_input_per_mtok or 0.0, config.price_output_per_mtok or 0.0)
    settings = LabelerSettings(
        batch_size=config.batch_size,
        concurrency=config.concurrency,
        max_attempts=config.max_attempts,
        retry=RetryPolicy(
            max_retries=config.max_retries,
            base_delay_s=config.base_delay_s,
            max_delay_s=config.max_delay_s,
        ),
        max_requests=config.max_requests,
        max_tokens=config.max_tokens,
    )
    return LlmLabeler(
        provider,
        settings,
        cache=LabelCache(cache_dir / CACHE_FILE) if config.use_cache else None,
        price=price_for(provider.model, base_url=provider.base_url, override=override),
        log=log,
    )
