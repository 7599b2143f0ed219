"""A separate process that materializes `labeled_chunks` as a real run of the Dagster instance.

Usage: python -m sentiment_assets_tests.labeling.labeling_run_worker BASE_URL

DAGSTER_HOME and SENTIMENT_WAREHOUSE come from the environment, so this run and the test's own
runs share one instance (its pools) and one lakehouse.
"""

import sys

import dagster as dg

from sentiment_assets.defs.labeling.assets import labeled_chunks
from sentiment_assets.defs.labeling.resources import LlmResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource


def main() -> None:
    base_url = sys.argv[1]
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [labeled_chunks],
            instance=instance,
            resources={
                "lakehouse": LakehouseResource(),
                "llm": LlmResource(
                    provider="openai",
                    base_url=base_url,
                    model="gemma-3-12b",
                    timeout_s=300,
                    track_usage=False,
                ),
            },
        )
    print("labeled" if result.success else "failed", flush=True)


if __name__ == "__main__":
    main()
