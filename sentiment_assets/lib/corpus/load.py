"""Pick the corpus source and sample it.

Source resolution, first match wins: an explicit source (asset config or `--source`), the
`SENTIMENT_CORPUS` environment variable, `<project>/../shared/data/nsmc_reviews.parquet` when it
exists, else NSMC's ratings files downloaded from GitHub. A source is a file path, `nsmc` (the
ratings files) or `nsmc-raw:<movie_id>,<movie_id>,...` (raw per-movie JSON with 1–10 stars).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.labels import example_weights
from sentiment_assets.lib.corpus.sources import (
    NSMC_BASE_URL,
    CorpusError,
    NsmcSource,
    read_local,
    read_nsmc,
)
from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets.lib.settings import PROJECT_ROOT

CORPUS_ENV = "SENTIMENT_CORPUS"
NSMC_URL_ENV = "SENTIMENT_NSMC_BASE_URL"
SHARED_NSMC = PROJECT_ROOT.parent / "shared" / "data" / "nsmc_reviews.parquet"


@dataclass(frozen=True)
class CorpusSample:
    """How many rows to keep: `train` from the train split, `evaluation` from dev and test each.

    None keeps the whole split. The demo and tests use a few thousand rows; benchmarks more.
    """

    train: int | None = None
    evaluation: int | None = None
    seed: int = 13


def resolve_source(explicit: str | None = None) -> Path | NsmcSource:
    """The corpus source to read, by the precedence in the module docstring."""
    spec = explicit or os.environ.get(CORPUS_ENV) or ""
    base_url = os.environ.get(NSMC_URL_ENV) or NSMC_BASE_URL
    if spec == "nsmc":
        return NsmcSource(base_url=base_url)
    if spec.startswith("nsmc-raw:"):
        ids = tuple(int(i) for i in spec.removeprefix("nsmc-raw:").split(",") if i.strip())
        if not ids:
            raise CorpusError("nsmc-raw: needs at least one movie id, e.g. nsmc-raw:10001")
        return NsmcSource(movie_ids=ids, base_url=base_url)
    if spec:
        path = Path(spec).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path
    if SHARED_NSMC.is_file():
        return SHARED_NSMC
    return NsmcSource(base_url=base_url)


def describe_source(source: Path | NsmcSource) -> str:
    """A short human-readable name of a source, for logs and metadata."""
    if isinstance(source, NsmcSource):
        return f"{source.name} from {source.base_url}"
    return str(source)


def sample_corpus(frame: pd.DataFrame, sample: CorpusSample) -> pd.DataFrame:
    """At most `sample.train` train rows and `sample.evaluation` dev and test rows each."""
    parts = []
    for split, group in frame.groupby("split", sort=False):
        limit = sample.train if split == "train" else sample.evaluation
        if limit is not None and len(group) > limit:
            group = group.sample(n=limit, random_state=sample.seed)
        parts.append(group)
    if not parts:
        return frame
    return pd.concat(parts).sort_values("sentence_id").reset_index(drop=True)


def load_corpus(source: str | None = None, sample: CorpusSample | None = None) -> pd.DataFrame:
    """Read the resolved source and sample it; columns are `sources.CORPUS_COLUMNS`."""
    resolved = resolve_source(source)
    frame = read_nsmc(resolved) if isinstance(resolved, NsmcSource) else read_local(resolved)
    return sample_corpus(frame, sample or CorpusSample())


def labeled(frame: pd.DataFrame, split: str, *, weighted: bool = True) -> LabeledTexts:
    """The `split` rows as LabeledTexts, with class-balancing weights when `weighted`."""
    rows = frame.loc[frame["split"] == split]
    labels = np.asarray(rows["label"], dtype=np.int64)
    return LabeledTexts(
        texts=rows["text"].astype(str).tolist(),
        labels=labels,
        weights=example_weights(labels) if weighted and len(labels) else None,
    )
