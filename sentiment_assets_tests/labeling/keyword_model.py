"""A tiny deterministic predictor for weak-labeling tests, loadable by `module:function`.

It stands in for the ensemble behind the `Predictor` protocol; `load` fails with ModelLoadError
until a model file exists, exactly like `load_current` on an empty models folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment_assets.lib.labeling.fake_llm import keyword_label
from sentiment_assets.lib.models.base import LABEL_INDEX, ModelLoadError

MODEL_FILE = "keyword_model.json"
LOADER = "sentiment_assets_tests.labeling.keyword_model:load"


class KeywordPredictor:
    def __init__(self, version: str):
        self.version = version

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = np.full((len(texts), 3), 0.1)
        for i, text in enumerate(texts):
            if not text.strip():
                proba[i] = np.nan  # what the ensemble answers for a text it rejects
            else:
                proba[i, LABEL_INDEX[keyword_label(text)]] = 0.8
        return proba


def install(models_root: Path, version: str = "v1") -> None:
    models_root.mkdir(parents=True, exist_ok=True)
    (models_root / MODEL_FILE).write_text(json.dumps({"version": version}))


def load(models_root: Path) -> KeywordPredictor:
    path = models_root / MODEL_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path} does not exist")
    return KeywordPredictor(json.loads(path.read_text())["version"])
