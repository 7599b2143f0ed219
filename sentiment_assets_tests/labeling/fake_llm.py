"""The fake LLM servers moved to `sentiment_assets.lib.labeling.fake_llm` (benchmarks use them too).

This name stays so tests written against the old place keep importing; new code imports from
the package.
"""

from sentiment_assets.lib.labeling.fake_llm import (  # noqa: F401
    BEHAVIOURS,
    FakeLlmServer,
    FakeModel,
    Seen,
    keyword_label,
)
