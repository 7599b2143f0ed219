"""The labeled general-domain corpus the members learn Korean sentiment from."""

import dagster as dg
import pandas as pd
from pydantic import Field

from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.lib.corpus.embedded import DEMO_NOTICE
from sentiment_assets.lib.corpus.load import CorpusSample, load

BASE_CORPUS_TABLE = "base_corpus"


class BaseCorpusConfig(dg.Config):
    """Where the corpus comes from and how much of it to keep."""

    source: str | None = Field(
        default=None,
        description="A Parquet/CSV/TSV/JSONL path, `nsmc`, `nsmc-raw:<movie ids>` or `embedded`. "
        "Default: SENTIMENT_CORPUS; with neither set, the first that reads of "
        "../shared/data/nsmc_reviews.parquet, NSMC online and the embedded demo corpus.",
    )
    train_rows: int | None = Field(
        default=3000, description="Train-split rows to keep (None: all). Small for the demo."
    )
    evaluation_rows: int | None = Field(
        default=600, description="Dev and test rows to keep, each (None: all)."
    )
    seed: int = 13


@dg.asset(
    group_name="corpus",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    kinds={"duckdb", "pandas"},
    description="One row per labeled sentence (an NSMC review is one short text): text, 1–10 "
    "rating, three-class label (1–4 부정, 5–8 중립, 9–10 긍정), NSMC binary label (5–8 missing), "
    "split as given by the source. Appended with sentence_id de-duplication.",
)
def base_corpus(
    context: dg.AssetExecutionContext, config: BaseCorpusConfig, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Load the configured source (or the first default that reads), sample it, append it."""
    loaded = load(
        config.source,
        CorpusSample(train=config.train_rows, evaluation=config.evaluation_rows, seed=config.seed),
        log=context.log.info,
    )
    frame = loaded.frame
    frame["loaded_at"] = pd.Timestamp.now(tz="UTC")
    with lakehouse.get().session() as lake:
        result = lake.append(BASE_CORPUS_TABLE, frame, key=("sentence_id",))
        total = int(lake.query(f"select count(*) as n from lake.{BASE_CORPUS_TABLE}")["n"].iloc[0])
    counts = (frame["split"] + "/" + frame["label_name"]).value_counts()
    context.log.info(
        "loaded %d rows from %s, %d new", len(frame), loaded.description, result.rows_written
    )
    notice = {"notice": DEMO_NOTICE} if loaded.demonstration_only else {}
    return dg.MaterializeResult(
        metadata={
            "source": loaded.description,
            "demonstration_only": loaded.demonstration_only,
            **notice,
            "sources_passed_over": dg.MetadataValue.json(loaded.tried),
            "rows_loaded": len(frame),
            "rows_written": result.rows_written,
            "table_rows": total,
            "snapshot_id": result.snapshot_id or 0,
            "labels_by_split": dg.MetadataValue.json(
                {str(key): int(n) for key, n in counts.sort_index().items()}
            ),
        }
    )
