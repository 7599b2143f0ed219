"""The LLM relabeler of a refinement round: lib/labeling's engine, asked once more.

It reuses the labeling engine whole (batching, retries, 429 delays, the per-run request and
token budget, schema validation), so a relabel answer is held to the same rules as a first
label: an answer outside 부정/중립/긍정 is `invalid` there and never becomes a label here.

The label cache is off for relabeling: the cache is keyed by text, model and prompt, so with
the labeling model it would hand back the very label under suspicion without asking anyone.
A different (stronger) `model` is what makes a relabel most worth its cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sentiment_assets.lib.labeling.config import LabelerConfig, build_labeler
from sentiment_assets.lib.labeling.labeler import Labeler
from sentiment_assets.lib.labeling.records import PostToLabel, UsageSummary
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.refine.rules import RelabelAnswer


@dataclass
class LlmRelabeler:
    """Callable as a round's `Relabeler`; keeps each call's usage summary."""

    labeler: Labeler
    summaries: list[UsageSummary] = field(default_factory=list)

    def __call__(self, texts: Mapping[str, str]) -> dict[str, RelabelAnswer]:
        """Ask the LLM about `texts` ({post key: text}); one answer per key asked."""
        result = self.labeler.label([PostToLabel(k, t) for k, t in texts.items()])
        self.summaries.append(result.summary)
        who = f"{self.labeler.provider_name}:{self.labeler.model}"
        answers: dict[str, RelabelAnswer] = {k: RelabelAnswer(None, None, who) for k in texts}
        for attempt in result.attempts:
            if attempt.status == "ok" and attempt.label in LABELS:
                answers[attempt.key] = RelabelAnswer(attempt.label, attempt.confidence, who)
        return answers

    def close(self) -> None:
        """Release the labeler's connections."""
        self.labeler.close()


def build_relabeler(
    config: LabelerConfig,
    *,
    model: str | None,
    cache_dir: Path,
    models_root: Path,
    environ: Mapping[str, str],
) -> LlmRelabeler | None:
    """An LLM relabeler from the labeling configuration, or None when no LLM is configured.

    Raises:
        LabelingConfigError: an LLM provider is named but misconfigured.
    """
    if config.provider == "weak":
        return None
    config = replace(config, use_cache=False, model=model or config.model)
    labeler = build_labeler(config, cache_dir=cache_dir, models_root=models_root, environ=environ)
    return LlmRelabeler(labeler)
