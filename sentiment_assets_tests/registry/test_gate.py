"""The promotion gate: the first version is champion, a worse one stays challenger with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.registry import CHALLENGER, CHAMPION, ModelRegistry, champion_path
from sentiment_assets.lib.registry.gate import decide
from sentiment_assets_tests.registry.helpers import seed_base_corpus, train_and_gate


@pytest.mark.parametrize(
    ("challenger", "champion", "margin", "promote"),
    [
        (0.70, None, 0.005, True),
        (0.706, 0.70, 0.005, True),
        (0.704, 0.70, 0.005, False),
        (0.60, 0.70, 0.005, False),
        (0.60, 0.70, -1.0, True),
    ],
)
def test_decide_needs_the_margin(
    challenger: float, champion: float | None, margin: float, promote: bool
) -> None:
    decision = decide(challenger, champion, margin)
    assert decision.promote is promote
    assert decision.reason


def test_gate_refuses_a_worse_challenger_and_records_why(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    frame = seed_base_corpus(lakehouse, tmp_path)

    first = train_and_gate(lakehouse, models, frame)
    assert first.promoted and first.champion_before is None
    assert first.challenger_scores["macro_f1"] > 0.5

    worse = train_and_gate(lakehouse, models, frame, flip=True)
    assert not worse.promoted
    assert worse.champion_before is not None
    assert worse.champion_before.number == first.registered.number
    assert worse.champion_scores is not None
    assert worse.challenger_scores["macro_f1"] < worse.champion_scores["macro_f1"]

    registry = ModelRegistry(models)
    assert registry.aliases() == {
        CHAMPION: first.registered.number,
        CHALLENGER: worse.registered.number,
    }
    refused = registry.get(worse.registered.number)
    assert refused.tags["gate.status"] == CHALLENGER
    assert "does not beat the champion" in refused.tags["gate.reason"]
    assert refused.tags["snapshot_id"] == "1"
    assert refused.tags["version_dir"] == f"ensemble/{worse.registered.version}"
    assert "metric.dev_accuracy" in refused.tags
    assert champion_path(models) == first.registered.path
    # Both versions were judged on the same frozen set.
    assert refused.tags["gate.eval_fingerprint"] == first.evaluation_fingerprint
