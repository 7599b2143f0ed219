"""With nothing configured, base_corpus falls through to the first source that reads.

The chain is ../shared's NSMC copy, NSMC online, then the embedded demo corpus; a configured
source never falls through. These tests run the real chain: a real Dagster materialization, a
real local HTTP server standing in for GitHub, and a proxy on a closed loopback port standing in
for a machine with no way out.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from sentiment_assets.defs.corpus.assets import base_corpus
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.corpus.embedded import embedded_corpus
from sentiment_assets.lib.corpus.load import (
    CORPUS_ENV,
    NSMC_URL_ENV,
    SHARED_NSMC_ENV,
    EmbeddedSource,
    load,
)
from sentiment_assets.lib.corpus.sources import CORPUS_COLUMNS, CorpusError, NsmcSource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets_tests.models.synthetic import write_corpus


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configured corpus, no ../shared copy, and every outside host behind a dead proxy."""
    monkeypatch.delenv(CORPUS_ENV, raising=False)
    monkeypatch.delenv(NSMC_URL_ENV, raising=False)
    monkeypatch.setenv(SHARED_NSMC_ENV, "")
    dead = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.setenv("NO_PROXY", "")


def test_embedded_corpus_is_deterministic_with_three_classes_in_every_split() -> None:
    frame = embedded_corpus()
    assert list(frame.columns) == list(CORPUS_COLUMNS)
    pd.testing.assert_frame_equal(frame, embedded_corpus())
    assert frame["text"].is_unique and frame["sentence_id"].is_unique
    by_split = frame.groupby("split")["label_name"].agg(set).to_dict()
    assert by_split == {split: set(LABELS) for split in ("train", "dev", "test")}
    assert len(frame.loc[frame["split"] == "train"]) >= 3000  # the demo samples 3,000
    other = embedded_corpus(rows_per_label=50, seed=2)
    assert len(other) == 150 and set(other["text"]) != set(frame["text"][:150])


def test_offline_with_nothing_configured_falls_through_to_embedded_in_seconds(
    offline: None, warehouse: Path
) -> None:
    started = time.perf_counter()
    result = dg.materialize(
        [base_corpus], resources={"lakehouse": LakehouseResource(path=str(warehouse))}
    )
    elapsed = time.perf_counter() - started
    assert result.success
    # A generous bound: what it guards against is a multi-minute download timeout.
    assert elapsed < 60, f"falling back took {elapsed:.0f} s"
    meta = result.asset_materializations_for_node("base_corpus")[0].metadata
    assert meta["demonstration_only"].value is True
    assert "embedded-demo" in str(meta["source"].value)
    assert "make demo" in str(meta["notice"].value)
    recorded = meta["sources_passed_over"].value
    assert isinstance(recorded, list) and len(recorded) == 2
    passed_over = [str(line) for line in recorded]
    assert "switched off" in passed_over[0]
    assert "nsmc-ratings" in passed_over[1] and "could not download" in passed_over[1]
    with Lakehouse(warehouse).session() as lake:
        stored = lake.query("select distinct source, label_name from lake.base_corpus")
    assert set(stored["source"]) == {"embedded-demo"}
    assert set(stored["label_name"]) == set(LABELS)


def test_the_shared_copy_wins_when_present(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = write_corpus(tmp_path / "nsmc_reviews.parquet")
    monkeypatch.setenv(SHARED_NSMC_ENV, str(shared))
    loaded = load()
    assert loaded.source == shared and not loaded.demonstration_only
    assert set(loaded.frame["source"]) == {"nsmc_reviews"}


def test_an_unreadable_shared_copy_is_passed_over_with_the_reason(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "nsmc_reviews.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    monkeypatch.setenv(SHARED_NSMC_ENV, str(broken))
    lines: list[str] = []
    loaded = load(log=lines.append)
    assert loaded.source == EmbeddedSource()
    assert str(broken) in loaded.tried[0] and "could not be read" in loaded.tried[0]
    assert any(line.startswith("corpus: moving on from") for line in lines)


def test_nsmc_online_is_used_when_it_answers(
    offline: None, nsmc_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NSMC_URL_ENV, nsmc_server)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    loaded = load()
    assert isinstance(loaded.source, NsmcSource) and loaded.source.base_url == nsmc_server
    assert len(loaded.frame) == 62 and not loaded.demonstration_only


@pytest.mark.parametrize("spec", ["missing.parquet", "nsmc"])
def test_a_configured_source_that_fails_is_an_error_not_a_fallback(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path / spec) if spec.endswith("parquet") else spec)
    with pytest.raises(CorpusError, match=r"does not exist|could not download"):
        load()


def test_embedded_can_be_chosen_explicitly(offline: None) -> None:
    loaded = load("embedded")
    assert loaded.demonstration_only and loaded.tried == []
