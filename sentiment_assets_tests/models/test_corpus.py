from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentiment_assets.lib.corpus.labels import (
    balanced_binary,
    class_weights,
    label_from_rating,
    labels_from_ratings,
)
from sentiment_assets.lib.corpus.load import (
    CORPUS_ENV,
    NSMC_URL_ENV,
    CorpusSample,
    EmbeddedSource,
    configured_source,
    labeled,
    load_corpus,
)
from sentiment_assets.lib.corpus.sources import CorpusError, NsmcSource, read_local, read_nsmc
from sentiment_assets_tests.models.synthetic import corpus_frame, write_corpus


@pytest.mark.parametrize(("rating", "label"), [(1, 0), (4, 0), (5, 1), (8, 1), (9, 2), (10, 2)])
def test_three_class_mapping(rating: int, label: int) -> None:
    assert label_from_rating(rating) == label


@pytest.mark.parametrize("rating", [0, 11])
def test_ratings_outside_one_to_ten_are_rejected(rating: int) -> None:
    with pytest.raises(ValueError):
        label_from_rating(rating)
    with pytest.raises(ValueError):
        labels_from_ratings(pd.Series([5, rating]))


def test_class_weights_balance_the_classes() -> None:
    labels = np.array([0, 1, 1, 2, 2, 2, 2, 2])
    weights = class_weights(labels)
    totals = [weights[c] * (labels == c).sum() for c in range(3)]
    assert np.allclose(totals, totals[0])
    assert class_weights(np.array([0, 0, 2]))[1] == 0.0


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".tsv"])
def test_local_files_keep_their_splits_and_map_ratings(tmp_path: Path, suffix: str) -> None:
    frame = read_local(write_corpus(tmp_path / f"corpus{suffix}"))
    source = corpus_frame()
    assert len(frame) == len(source)
    assert frame.groupby("split").size().to_dict() == source.groupby("split").size().to_dict()
    by_id = frame.set_index("sentence_id")
    row = source.iloc[0]
    stored = by_id.loc[f"corpus:{row['review_id']}"]
    assert stored["label"] == label_from_rating(int(row["rating"]))
    assert stored["label_name"] == "긍정"
    neutral = frame[frame["label"] == 1]
    assert bool(pd.Series(neutral["nsmc_binary"]).isna().all()) and not neutral.empty
    assert set(frame.loc[frame["label"] == 0, "nsmc_binary"]) == {0}


def test_label_names_and_binary_labels_without_ratings(tmp_path: Path) -> None:
    named = tmp_path / "named.csv"
    pd.DataFrame({"text": ["좋다", "별로", "공지"], "label": ["긍정", "negative", "중립"]}).to_csv(
        named, index=False
    )
    frame = read_local(named)
    assert sorted(frame["label"]) == [0, 1, 2]
    assert set(frame["split"]) <= {"train", "dev", "test"}
    binary = tmp_path / "ratings.txt"
    binary.write_text("id\tdocument\tlabel\n1\t재밌다\t1\n2\t지루하다\t0\n")
    frame = read_local(binary)
    assert frame.set_index("sentence_id")["label"].to_dict() == {"ratings:1": 2, "ratings:2": 0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"body": ["x"], "rating": [1]}, "no text column"),
        ({"text": ["x"], "stars": [1]}, "rating"),
        ({"text": ["x"], "rating": [11]}, "1 to 10"),
        ({"text": ["x"], "rating": [3], "split": ["validation"]}, "unknown split"),
    ],
)
def test_bad_local_files_fail_with_a_clear_error(
    tmp_path: Path, content: dict, message: str
) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame(content).to_csv(path, index=False)
    with pytest.raises(CorpusError, match=message):
        read_local(path)
    with pytest.raises(CorpusError, match="does not exist"):
        read_local(tmp_path / "missing.parquet")


def test_sampling_is_per_split_and_reproducible(tmp_path: Path) -> None:
    path = str(write_corpus(tmp_path / "c.parquet"))
    first = load_corpus(path, CorpusSample(train=50, evaluation=10, seed=3))
    again = load_corpus(path, CorpusSample(train=50, evaluation=10, seed=3))
    assert first.groupby("split").size().to_dict() == {"dev": 10, "test": 10, "train": 50}
    pd.testing.assert_frame_equal(first, again)
    train = labeled(first, "train")
    assert len(train.texts) == 50 and train.weights is not None


def test_source_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path / "env.parquet"))
    assert configured_source(str(tmp_path / "explicit.csv")) == tmp_path / "explicit.csv"
    assert configured_source() == tmp_path / "env.parquet"
    assert configured_source("embedded") == EmbeddedSource()
    monkeypatch.setenv(NSMC_URL_ENV, "http://127.0.0.1:1")
    assert configured_source("nsmc-raw:1,2") == NsmcSource(
        movie_ids=(1, 2), base_url="http://127.0.0.1:1"
    )
    with pytest.raises(CorpusError):
        configured_source("nsmc-raw:")
    monkeypatch.delenv(CORPUS_ENV)
    assert configured_source() is None


def test_nsmc_ratings_files_over_http(nsmc_server: str) -> None:
    frame = read_nsmc(NsmcSource(base_url=nsmc_server))
    assert len(frame) == 62
    assert set(frame["split"]) == {"train", "dev", "test"}
    assert bool(frame["label"].isin([0, 2]).all())
    assert frame.set_index("sentence_id").loc["nsmc-ratings:100", "label"] == 2


def test_nsmc_raw_movie_json_over_http(nsmc_server: str) -> None:
    frame = read_nsmc(NsmcSource(movie_ids=(7,), base_url=nsmc_server))
    assert frame.set_index("sentence_id")["label"].to_dict() == {
        "nsmc-raw:1": 2,
        "nsmc-raw:2": 1,
    }
    assert frame["split"].nunique() == 1  # one movie never spans two splits
    with pytest.raises(CorpusError, match="404"):
        read_nsmc(NsmcSource(movie_ids=(8,), base_url=nsmc_server))


def test_offline_download_fails_fast_with_a_clear_error() -> None:
    started = time.perf_counter()
    with pytest.raises(CorpusError, match=r"could not download .*local file"):
        read_nsmc(NsmcSource(base_url="http://127.0.0.1:9", timeout_s=2.0))
    assert time.perf_counter() - started < 10


def test_balanced_binary_keeps_equal_halves(tmp_path: Path) -> None:
    frame = read_local(write_corpus(tmp_path / "c.parquet"))
    balanced = balanced_binary(frame)
    counts = balanced["nsmc_binary"].value_counts()
    assert counts[0] == counts[1]
    assert bool(pd.Series(balanced["nsmc_binary"]).notna().all())
