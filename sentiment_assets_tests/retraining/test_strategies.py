"""Per-member strategies and the ablation that reports each member's contribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiment_assets.lib.models.ablation import dominance_warning, member_contributions
from sentiment_assets.lib.models.base import TrainSettings
from sentiment_assets.lib.models.ensemble import MemberRef
from sentiment_assets.lib.retraining.strategies import retrain_settings


@pytest.mark.parametrize(
    ("member", "mode", "continues"),
    [
        ("lexicon", "incremental", True),
        ("lstm", "full", False),
        ("bilstm", "partial", True),
        ("bert", "fine-tune", True),
        ("someday", "full", False),
    ],
)
def test_strategy_continues_from_the_champion_where_it_should(
    member: str, mode: str, continues: bool, tmp_path: Path
) -> None:
    champion = {member: tmp_path / member / "v1"}
    settings, strategy = retrain_settings(member, TrainSettings(epochs=2), champion)
    assert strategy.mode == mode
    assert settings.epochs == 2
    assert settings.init_from == (champion[member] if continues else None)
    # Without a champion version of the member, everything trains from scratch.
    fresh, strategy = retrain_settings(member, TrainSettings(), {})
    assert fresh.init_from is None and strategy.mode == "full"


@pytest.mark.parametrize(
    ("drops", "warns"),
    [
        ({"a": 0.04, "b": 0.02}, False),
        ({"a": 0.07, "b": 0.02}, True),
        ({"a": 0.03, "b": 0.0}, True),
        ({"a": 0.0, "b": 0.0}, False),
        ({"a": 0.05}, False),
    ],
)
def test_dominance_warning(drops: dict[str, float], warns: bool) -> None:
    warning = dominance_warning(drops)
    assert (warning is not None) is warns
    if warning is not None:
        assert "a contributes" in warning


def test_ablation_credits_the_member_that_knows_the_answer() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    sharp = np.full((300, 3), 0.05)
    sharp[np.arange(300), labels] = 0.9
    noise = rng.dirichlet(np.ones(3), 300)
    refs = {
        n: MemberRef(version="v", vocabulary_hash="", weight=0.5, temperature=1.0)
        for n in ("sharp", "noise")
    }
    found = member_contributions({"sharp": sharp, "noise": noise}, labels, refs, 1.0)
    assert found.full_macro_f1 > 0.9
    assert found.drops["sharp"] > 0.4  # without it only noise is left
    assert found.drops["noise"] <= 0.01
    assert found.warning is not None and "sharp contributes" in found.warning
