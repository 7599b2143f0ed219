"""`ensemble_model` registers every version and runs the gate; a refit of the same members waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from sentiment_assets.defs.corpus.assets import base_corpus
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.assets import MEMBER_ASSETS, ensemble_model
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.registry import CHALLENGER, CHAMPION, ModelRegistry
from sentiment_assets_tests.models.synthetic import write_corpus

LEXICON_MODEL = next(a for a in MEMBER_ASSETS if a.key.to_user_string() == "lexicon_model")


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    event = result.asset_materializations_for_node("ensemble_model")[0]
    return {k: v.value for k, v in event.metadata.items()}


def test_ensemble_model_registers_and_gates(lakehouse: Lakehouse, tmp_path: Path) -> None:
    resources = {"lakehouse": LakehouseResource(), "model_store": ModelStoreResource()}
    corpus = write_corpus(tmp_path / "corpus.parquet")
    config = dg.RunConfig(
        ops={"base_corpus": {"config": {"source": str(corpus), "train_rows": None}}}
    )
    first = dg.materialize(
        [base_corpus, LEXICON_MODEL, ensemble_model], resources=resources, run_config=config
    )
    assert first.success
    meta = _metadata(first)
    assert meta["promoted"] is True and meta["registry_version"] == 1
    assert meta["gate_eval_parts"] == {"base_corpus_dev": meta["gate_eval_rows"], "feedback": 0}

    # Same members refitted: no gain over the champion, so it waits as challenger.
    again = dg.materialize([ensemble_model], resources=resources)
    assert again.success
    second = _metadata(again)
    assert second["promoted"] is False and second["champion_before"] == 1
    assert "does not beat" in second["gate_reason"]
    assert ModelRegistry(Path(ModelStoreResource().root())).aliases() == {
        CHAMPION: 1,
        CHALLENGER: 2,
    }
