"""The dbt project and the `dbt` CLI resource the marts assets run it with."""

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev

from sentiment_assets.lib.marts.manifest import (
    DBT_PROJECT_DIR,
    dbt_executable,
    manifest_current,
    prepare_manifest,
)

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Not `dbt_project.prepare_if_dev()`: it runs whatever `dbt` is on PATH, so `make dev` failed to
# load unless the venv's bin was on PATH. Under `dagster dev` models may have just changed, so
# re-parse; elsewhere (a fresh clone, tests, `sentiment demo`) parse only when the manifest is
# missing or older than the project, which would otherwise fail the load ("manifest.json not
# found") or a run (a model the manifest does not know).
if using_dagster_dev() or not manifest_current(DBT_PROJECT_DIR):
    prepare_manifest(DBT_PROJECT_DIR)


@dg.definitions
def defs() -> dg.Definitions:
    """Bind the dbt CLI to the project, using the dbt installed next to this interpreter."""
    return dg.Definitions(
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())}
    )
