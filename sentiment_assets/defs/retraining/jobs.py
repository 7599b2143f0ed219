"""`retraining_job`: refinement, retraining, the champion's predictions and the marts, in one run.

`marts_job` is the same run's tail alone: score what the champion lacks, rebuild the marts and
their export. It is what to launch after `sentiment rollback` (which has scored already, so it
rebuilds at once) or after moving the champion alias by any other means.
"""

import dagster as dg

from sentiment_assets.defs.dbt.assets import MARTS_SELECTION
from sentiment_assets.defs.retraining.assets import CHALLENGER_ASSET

CHAMPION_PREDICTIONS_ASSET = "champion_predictions"

# Ingest the batch of human labels, refine the labels with them, retrain and gate, score the
# posts with whichever ensemble is champion afterwards, then rebuild the marts from its scores.
# `refined_labels` is selected by a string and kept only where it is materializable (`all()`),
# so this job still loads in a checkout where the refinement code is absent (the key is then
# only an external dependency).
RETRAINING_SELECTION = (
    dg.AssetSelection.assets("feedback", CHALLENGER_ASSET, CHAMPION_PREDICTIONS_ASSET)
    | dg.AssetSelection.from_string('key:"refined_labels"')
    | MARTS_SELECTION
) & dg.AssetSelection.all()

retraining_job = dg.define_asset_job(
    "retraining_job",
    selection=RETRAINING_SELECTION,
    description="Ingest human labels, refine labels, retrain every member by its strategy, gate "
    "the challenger, score posts with the (possibly new) champion, and rebuild the marts.",
)

marts_job = dg.define_asset_job(
    "marts_job",
    selection=dg.AssetSelection.assets(CHAMPION_PREDICTIONS_ASSET) | MARTS_SELECTION,
    description="Score the posts the champion has not scored, then rebuild the marts and their "
    "export: the marts refresh to run after `sentiment rollback`.",
)
