"""The dbt project and the `dbt` CLI resource the marts assets run it with."""

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from sentiment_assets.lib.marts.manifest import (
    DBT_PROJECT_DIR,
    dbt_executable,
    manifest_path,
    prepare_manifest,
)

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
# Outside `dagster dev` nothing parses the project; a fresh clone, a test run or `sentiment demo`
# would otherwise fail to load with "manifest.json not found". `make` prepares it up front.
if not manifest_path(DBT_PROJECT_DIR).exists():
    prepare_manifest(DBT_PROJECT_DIR)


@dg.definitions
def defs() -> dg.Definitions:
    """Bind the dbt CLI to the project, using the dbt installed next to this interpreter."""
    return dg.Definitions(
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())}
    )
