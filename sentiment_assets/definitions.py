"""The code location: everything under `defs/` is discovered and merged here."""

import dagster as dg

from sentiment_assets.lib.settings import PROJECT_ROOT


@dg.definitions
def defs() -> dg.Definitions:
    """Load every asset, sensor, schedule, job and resource from the `defs/` folder."""
    return dg.load_from_defs_folder(project_root=PROJECT_ROOT)
