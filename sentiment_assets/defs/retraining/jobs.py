"""`retraining_job`: refinement, retraining and the champion's predictions, in one run."""

import dagster as dg

from sentiment_assets.defs.retraining.assets import CHALLENGER_ASSET

CHAMPION_PREDICTIONS_ASSET = "champion_predictions"

# Ingest the batch of corrections, refine the labels with them, retrain and gate, then score
# the posts with whichever ensemble is champion afterwards. `refined_labels` is selected by a
# string and kept only where it is materializable (`all()`), so this job still loads in a
# checkout where the refinement code is absent (the key is then only an external dependency).
RETRAINING_SELECTION = (
    dg.AssetSelection.assets("feedback", CHALLENGER_ASSET, CHAMPION_PREDICTIONS_ASSET)
    | dg.AssetSelection.from_string('key:"refined_labels"')
) & dg.AssetSelection.all()

retraining_job = dg.define_asset_job(
    "retraining_job",
    selection=RETRAINING_SELECTION,
    description="Ingest corrections, refine labels, retrain every member by its strategy, gate "
    "the challenger, and score posts with the (possibly new) champion.",
)
