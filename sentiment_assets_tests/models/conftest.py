"""Fixtures shared by the model tests: a real NSMC sample and lexicons trained on it once."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from sentiment_assets.lib.corpus.load import CorpusSample, labeled, load_corpus
from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets.lib.models.lexicon import Lexicon
from sentiment_assets_tests.conftest import NSMC_PATH


@dataclass(frozen=True)
class NsmcSample:
    frame: pd.DataFrame
    train: LabeledTexts
    dev: LabeledTexts
    test: pd.DataFrame


@pytest.fixture(scope="session")
def nsmc_sample() -> NsmcSample:
    """4,000 train, 800 dev and 800 test reviews of the real corpus (skips where absent)."""
    if not NSMC_PATH.is_file():
        pytest.skip(f"real NSMC data not found at {NSMC_PATH}")
    frame = load_corpus(str(NSMC_PATH), CorpusSample(train=4000, evaluation=800, seed=5))
    test = pd.DataFrame(frame.loc[frame["split"] == "test"]).reset_index(drop=True)
    return NsmcSample(frame, labeled(frame, "train"), labeled(frame, "dev"), test)


@pytest.fixture(scope="session")
def nsmc_lexicon(nsmc_sample: NsmcSample) -> Lexicon:
    """A lexicon fitted on the NSMC sample and scaled on its dev split."""
    lexicon = Lexicon.fit(nsmc_sample.train)
    lexicon.fit_scale(nsmc_sample.dev)
    return lexicon
