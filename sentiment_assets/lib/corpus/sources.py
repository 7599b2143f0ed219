"""Read a labeled corpus from a local file or from NSMC's public GitHub repository.

Every reader returns the same frame (`CORPUS_COLUMNS`): one row per labeled text, the label as
an index into `LABELS`, NSMC's binary label where it is defined, and the split. Splits given by
the source are kept; sources without one are split deterministically by a hash (of the movie
for NSMC raw files, so no movie sits in two splits; of the text otherwise), 90/5/5.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.labels import (
    labels_from_names,
    labels_from_ratings,
    nsmc_binary_from_ratings,
)
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.text.normalize import text_hash

CORPUS_COLUMNS = (
    "sentence_id",
    "text",
    "rating",
    "label",
    "label_name",
    "nsmc_binary",
    "split",
    "source",
)
SPLITS = ("train", "dev", "test")
NSMC_BASE_URL = "https://raw.githubusercontent.com/e9t/nsmc/master"
NSMC_RATINGS_FILES = {"train": "ratings_train.txt", "test": "ratings_test.txt"}
_TEXT_ALIASES = ("text", "document", "review", "sentence")
_ID_ALIASES = ("sentence_id", "review_id", "id")


class CorpusError(RuntimeError):
    """The corpus source cannot be read; the message names the file or URL and what to do."""


@dataclass(frozen=True)
class NsmcSource:
    """NSMC online: the ratings files, or the raw per-movie JSON of the given movies."""

    movie_ids: tuple[int, ...] = ()
    """Empty: the ratings files (binary labels only). Otherwise `raw/<movie_id>.json` each."""
    base_url: str = NSMC_BASE_URL
    timeout_s: float = 20.0
    connect_timeout_s: float = 10.0
    """Kept short where falling back is better than waiting (the default source chain)."""

    @property
    def name(self) -> str:
        """Short provenance tag stored with every row."""
        return "nsmc-raw" if self.movie_ids else "nsmc-ratings"


def _bucket(key: object) -> int:
    return int(hashlib.sha256(str(key).encode()).hexdigest()[:8], 16) % 100


def _hash_split(keys: Iterable[object]) -> list[str]:
    return ["test" if b < 5 else "dev" if b < 10 else "train" for b in map(_bucket, keys)]


def _finish(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = pd.DataFrame(frame.loc[frame["text"].str.len() > 0])
    frame["label_name"] = [LABELS[i] for i in frame["label"]]
    frame["source"] = source
    frame = frame.drop_duplicates("sentence_id")
    bad = sorted(set(frame["split"]) - set(SPLITS))
    if bad:
        raise CorpusError(f"{source}: unknown split names {bad}; use {list(SPLITS)}")
    return frame.loc[:, list(CORPUS_COLUMNS)].reset_index(drop=True)


def _pick(frame: pd.DataFrame, aliases: tuple[str, ...]) -> str | None:
    return next((c for c in aliases if c in frame.columns), None)


def _labels_from_column(labels: pd.Series) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(labels):
        return labels_from_names(labels)
    values = labels.to_numpy(dtype=np.int64)
    if set(np.unique(values)) <= {0, 1}:
        return np.where(values == 1, 2, 0)
    if set(np.unique(values)) <= {0, 1, 2}:
        return values
    raise ValueError("integer labels must be 0/1 (binary) or 0/1/2")


def _binary_from_labels(labels: np.ndarray, index: pd.Index) -> pd.Series:
    binary = pd.Series(pd.NA, index=index, dtype="Int64")
    binary[labels == 0] = 0
    binary[labels == 2] = 1
    return binary


def standardize(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Turn a frame with a text column and a rating or label column into `CORPUS_COLUMNS`.

    Accepted label columns, first match wins: `rating` (1–10 stars, mapped as documented in
    `labels`); `label` holding names (부정/중립/긍정 or negative/neutral/positive); `label`
    holding integers, read as NSMC's binary 0/1 when only 0 and 1 occur, else as class indices
    0/1/2. Without a `split` column rows are split by a hash of the text.
    """
    text_col = _pick(raw, _TEXT_ALIASES)
    if text_col is None:
        raise CorpusError(
            f"{source}: no text column (looked for {list(_TEXT_ALIASES)}; has {list(raw.columns)})"
        )
    frame = pd.DataFrame({"text": raw[text_col].fillna("").astype(str).str.strip()})
    try:
        if "rating" in raw.columns:
            ratings = pd.Series(pd.to_numeric(raw["rating"]), index=raw.index).astype("Int64")
            frame["rating"] = ratings
            frame["label"] = labels_from_ratings(ratings)
            frame["nsmc_binary"] = nsmc_binary_from_ratings(ratings)
        elif "label" in raw.columns:
            frame["rating"] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
            frame["label"] = _labels_from_column(pd.Series(raw["label"]))
            frame["nsmc_binary"] = _binary_from_labels(frame["label"].to_numpy(), raw.index)
        else:
            raise CorpusError(f"{source}: needs a `rating` (1–10) or `label` column")
    except (ValueError, TypeError) as exc:
        raise CorpusError(f"{source}: bad rating or label values: {exc}") from exc
    id_col = _pick(raw, _ID_ALIASES)
    ids = raw[id_col].astype(str) if id_col else frame["text"].map(text_hash)
    frame["sentence_id"] = source + ":" + ids
    if "split" in raw.columns:
        frame["split"] = raw["split"].astype(str).str.strip().str.lower()
    else:
        frame["split"] = _hash_split(frame["text"])
    return _finish(frame, source)


def read_local(path: Path) -> pd.DataFrame:
    """A corpus from a Parquet, CSV, TSV (.tsv/.txt) or JSON-lines (.jsonl) file."""
    if not path.is_file():
        raise CorpusError(f"corpus file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            raw = pd.read_parquet(path)
        elif suffix == ".csv":
            raw = pd.read_csv(path)
        elif suffix in (".tsv", ".txt"):
            raw = pd.read_csv(path, sep="\t", quoting=3)
        elif suffix == ".jsonl":
            raw = pd.read_json(path, lines=True)
        else:
            raise CorpusError(f"{path}: unsupported corpus format {suffix or '(none)'}")
    except (OSError, ValueError) as exc:
        raise CorpusError(f"corpus file {path} could not be read: {exc}") from exc
    return standardize(raw, path.stem)


def _get(client: httpx.Client, url: str) -> bytes:
    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise CorpusError(
            f"could not download {url}: {exc}. Offline? Point the corpus at a local file "
            "(SENTIMENT_CORPUS or the asset's `source` config) instead."
        ) from exc
    return response.content


def read_nsmc(source: NsmcSource) -> pd.DataFrame:
    """Download NSMC: the ratings files (train/test, binary) or raw per-movie JSON (1–10 stars).

    The ratings files carry no dev split; dev is carved from their train file by a hash of the
    review id (5%). Timeouts are bounded, so an offline machine fails fast with a clear error.
    """
    timeout = httpx.Timeout(
        source.timeout_s, connect=min(source.timeout_s, source.connect_timeout_s)
    )
    base = source.base_url.rstrip("/")
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        if not source.movie_ids:
            frames = []
            for split, name in NSMC_RATINGS_FILES.items():
                raw = pd.read_csv(io.BytesIO(_get(client, f"{base}/{name}")), sep="\t", quoting=3)
                if split == "train":
                    raw["split"] = ["dev" if _bucket(i) < 5 else "train" for i in raw["id"]]
                else:
                    raw["split"] = "test"
                frames.append(raw)
            return standardize(pd.concat(frames, ignore_index=True), source.name)
        records = []
        for movie_id in source.movie_ids:
            url = f"{base}/raw/{movie_id}.json"
            try:
                reviews = json.loads(_get(client, url))
            except ValueError as exc:
                raise CorpusError(f"{url} is not valid JSON: {exc}") from exc
            records.extend(
                {
                    "review_id": r["review_id"],
                    "text": r["review"],
                    "rating": int(r["rating"]),
                    "movie_id": movie_id,
                }
                for r in reviews
            )
    if not records:
        raise CorpusError(f"no reviews found for movies {list(source.movie_ids)}")
    raw = pd.DataFrame.from_records(records)
    raw["split"] = _hash_split(raw["movie_id"])
    return standardize(raw, source.name)
