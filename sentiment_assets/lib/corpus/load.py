"""Pick the corpus source and sample it.

A configured source wins and is the only one tried: the asset's `source` config or `--source`,
else the `SENTIMENT_CORPUS` environment variable. A configured source that is missing or
unreadable is an error, never silently replaced. A source is a file path, `nsmc` (NSMC's
ratings files online), `nsmc-raw:<movie_id>,<movie_id>,...` (raw per-movie JSON with 1–10 stars)
or `embedded` (the demo corpus in `embedded`).

With nothing configured, the sources below are tried in order and the first that reads wins;
each one that is skipped or fails is logged with the reason, so an offline machine ends on the
embedded demo corpus in seconds instead of failing:

1. the development copy of NSMC at `<project>/../shared/data/nsmc_reviews.parquet` (another
   path with `SENTIMENT_SHARED_NSMC`; an empty value skips it),
2. NSMC online, when its host answers within `ONLINE_CONNECT_TIMEOUT_S`,
3. the embedded demo corpus.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.embedded import DEMO_NOTICE, EMBEDDED_SOURCE, embedded_corpus
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
SHARED_NSMC_ENV = "SENTIMENT_SHARED_NSMC"
SHARED_NSMC = PROJECT_ROOT.parent / "shared" / "data" / "nsmc_reviews.parquet"
ONLINE_CONNECT_TIMEOUT_S = 3.0
"""Long enough for a slow but working link; short enough that an offline demo is not held up."""


@dataclass(frozen=True)
class EmbeddedSource:
    """The demo corpus the project generates itself (`embedded`)."""

    name: str = EMBEDDED_SOURCE


Source = Path | NsmcSource | EmbeddedSource


@dataclass(frozen=True)
class CorpusSample:
    """How many rows to keep: `train` from the train split, `evaluation` from dev and test each.

    None keeps the whole split. The demo and tests use a few thousand rows; benchmarks more.
    """

    train: int | None = None
    evaluation: int | None = None
    seed: int = 13


@dataclass
class LoadedCorpus:
    """A sampled corpus and where it came from."""

    frame: pd.DataFrame
    source: Source
    tried: list[str] = field(default_factory=list)
    """One line per source tried before `source`, with why it was passed over."""

    @property
    def description(self) -> str:
        """The source's short human-readable name, for logs and metadata."""
        return describe_source(self.source)

    @property
    def demonstration_only(self) -> bool:
        """True for the embedded demo corpus: models trained on it are not real models."""
        return isinstance(self.source, EmbeddedSource)


def _nsmc(movie_ids: tuple[int, ...] = (), connect_timeout_s: float = 10.0) -> NsmcSource:
    base_url = os.environ.get(NSMC_URL_ENV) or NSMC_BASE_URL
    return NsmcSource(movie_ids=movie_ids, base_url=base_url, connect_timeout_s=connect_timeout_s)


def parse_source(spec: str) -> Source:
    """The source a configured spec names (a path, `nsmc`, `nsmc-raw:<ids>` or `embedded`)."""
    if spec == "embedded":
        return EmbeddedSource()
    if spec == "nsmc":
        return _nsmc()
    if spec.startswith("nsmc-raw:"):
        ids = tuple(int(i) for i in spec.removeprefix("nsmc-raw:").split(",") if i.strip())
        if not ids:
            raise CorpusError("nsmc-raw: needs at least one movie id, e.g. nsmc-raw:10001")
        return _nsmc(ids)
    path = Path(spec).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def configured_source(explicit: str | None = None) -> Source | None:
    """The explicitly configured source (argument, then `SENTIMENT_CORPUS`), or None."""
    spec = explicit or os.environ.get(CORPUS_ENV) or ""
    return parse_source(spec) if spec else None


def shared_nsmc_path() -> Path | None:
    """Where the development copy of NSMC is looked for; None when switched off."""
    if SHARED_NSMC_ENV in os.environ:
        value = os.environ[SHARED_NSMC_ENV].strip()
        return Path(value).expanduser() if value else None
    return SHARED_NSMC


def default_sources() -> list[Source]:
    """The fall-through chain used when nothing is configured (see the module docstring)."""
    chain: list[Source] = []
    shared = shared_nsmc_path()
    if shared is not None:
        chain.append(shared)
    chain += [_nsmc(connect_timeout_s=ONLINE_CONNECT_TIMEOUT_S), EmbeddedSource()]
    return chain


def describe_source(source: Source) -> str:
    """A short human-readable name of a source, for logs and metadata."""
    if isinstance(source, NsmcSource):
        return f"{source.name} from {source.base_url}"
    if isinstance(source, EmbeddedSource):
        return f"{source.name} (generated; demonstration only)"
    return str(source)


def read_source(source: Source) -> pd.DataFrame:
    """Every row of `source`, unsampled."""
    if isinstance(source, EmbeddedSource):
        return embedded_corpus()
    if isinstance(source, NsmcSource):
        return read_nsmc(source)
    return read_local(source)


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


def load(
    source: str | None = None,
    sample: CorpusSample | None = None,
    log: Callable[[str], object] = lambda _line: None,
) -> LoadedCorpus:
    """Read the configured source, or the first default source that reads, and sample it.

    Raises:
        CorpusError: a configured source is missing or unreadable (nothing falls back then).
    """
    sample = sample or CorpusSample()
    configured = configured_source(source)
    if configured is not None:
        log(f"corpus: reading the configured source {describe_source(configured)}")
        return LoadedCorpus(sample_corpus(read_source(configured), sample), configured)
    tried: list[str] = []
    shared = shared_nsmc_path()
    if shared is None:
        tried.append(f"development NSMC copy: switched off by an empty {SHARED_NSMC_ENV}")
    elif not shared.is_file():
        tried.append(f"development NSMC copy: {shared} not found")
    for line in tried:
        log(f"corpus: skipped {line}")
    for candidate in default_sources():
        if isinstance(candidate, Path) and not candidate.is_file():
            continue
        log(f"corpus: trying {describe_source(candidate)}")
        try:
            frame = read_source(candidate)
        except CorpusError as exc:
            line = f"{describe_source(candidate)}: {exc}"
            log(f"corpus: moving on from {line}")
            tried.append(line)
            continue
        loaded = LoadedCorpus(sample_corpus(frame, sample), candidate, tried)
        if loaded.demonstration_only:
            log(f"corpus: using the embedded demo corpus; {DEMO_NOTICE}")
        return loaded
    raise AssertionError("the embedded corpus always reads")  # pragma: no cover


def load_corpus(source: str | None = None, sample: CorpusSample | None = None) -> pd.DataFrame:
    """The sampled frame of `load`; columns are `sources.CORPUS_COLUMNS`."""
    return load(source, sample).frame


def labeled(frame: pd.DataFrame, split: str, *, weighted: bool = True) -> LabeledTexts:
    """The `split` rows as LabeledTexts, with class-balancing weights when `weighted`."""
    rows = frame.loc[frame["split"] == split]
    labels = np.asarray(rows["label"], dtype=np.int64)
    return LabeledTexts(
        texts=rows["text"].astype(str).tolist(),
        labels=labels,
        weights=example_weights(labels) if weighted and len(labels) else None,
    )
