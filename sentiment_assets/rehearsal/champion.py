"""A first champion for a rehearsal: a lexicon registered through the real gate.

The loop then starts from a registered model, as a deployment would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sentiment_assets.lib.corpus.load import labeled
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LabeledTexts, TrainSettings
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.pipeline import build_ensemble, train_member
from sentiment_assets.lib.registry.evalset import frozen_evaluation_set, in_gate_half
from sentiment_assets.lib.registry.gate import DEFAULT_MARGIN, GateResult, register_and_gate
from sentiment_assets.lib.registry.store import tracking_uri_for


def seed_base_corpus(lakehouse: Lakehouse, frame: pd.DataFrame) -> None:
    """Store corpus rows (`sources.CORPUS_COLUMNS`) as `base_corpus`, as the asset would."""
    lakehouse.append(
        "base_corpus", frame.assign(loaded_at=pd.Timestamp.now(tz="UTC")), key=("sentence_id",)
    )


def fitting_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The corpus rows training may use: the gate's half of the dev split is kept out."""
    reserved = (frame["split"] == "dev").to_numpy() & in_gate_half(frame["sentence_id"])
    return pd.DataFrame(frame.loc[~reserved])


def splits(frame: pd.DataFrame) -> tuple[LabeledTexts, LabeledTexts]:
    """The train and dev rows of `fitting_rows(frame)`."""
    fitting = fitting_rows(frame)
    return labeled(fitting, "train"), labeled(fitting, "dev")


def lexicon_champion(
    lakehouse: Lakehouse,
    models_root: Path,
    train: LabeledTexts,
    dev: LabeledTexts,
    *,
    margin: float = DEFAULT_MARGIN,
) -> GateResult:
    """Train a lexicon, fit a one-member ensemble over it, and register and gate it.

    With no champion yet the gate promotes it; the frozen evaluation set comes from the lake's
    `base_corpus`, so seed that first.
    """
    uri = tracking_uri_for(models_root)
    spec = available_members(["lexicon"])["lexicon"]
    saved_member = train_member(
        spec, train, dev, TrainSettings(), models_root=models_root, tracking_uri=uri, snapshot_id=1
    )
    ensemble, saved = build_ensemble(
        dev,
        models_root=models_root,
        tracking_uri=uri,
        snapshot_id=1,
        member_dirs={"lexicon": saved_member.path},
    )
    with lakehouse.session() as lake:
        evaluation = frozen_evaluation_set(lake)
    return register_and_gate(
        ensemble,
        models_root=models_root,
        run_id=saved.run_id,
        evaluation=evaluation,
        snapshot_id=1,
        metrics=saved.manifest.metrics,
        margin=margin,
    )
