"""Jobs that span domains."""

import dagster as dg

demo_job = dg.define_asset_job(
    "demo_job",
    selection=dg.AssetSelection.all(),
    description="Every asset end to end on embedded defaults: what `make demo` runs.",
)
