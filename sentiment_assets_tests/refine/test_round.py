"""Rounds through the library (no Dagster): freezing after convergence, the one-commit write."""

from __future__ import annotations

import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.refine.inputs import read_inputs
from sentiment_assets.lib.refine.round import run_round
from sentiment_assets.lib.refine.store import history, read_rounds, round_row, write_round
from sentiment_assets.lib.refine.tables import current_labels
from sentiment_assets.lib.retraining.data import read_current_labels
from sentiment_assets_tests.refine.fixtures import (
    add_feedback,
    add_labeled_posts,
    add_predictions,
    truth,
)


def one_round(lakehouse: Lakehouse, *, last_converged: bool | None = None):
    with lakehouse.session() as lake:
        inputs = read_inputs(lake)
        past, converged = history(read_rounds(lake))
    result = run_round(
        inputs, past, last_converged=converged if last_converged is None else last_converged
    )
    row = round_row(
        result,
        model_version=inputs.model_version,
        snapshot_id=inputs.snapshot_id,
        mlflow_run_id=None,
        run_id="test",
        refined_at=result.refined_at,
    )
    with lakehouse.session() as lake:
        snapshot = write_round(lake, result, row)
        labels = current_labels(lake).set_index("post_id")
    return result, snapshot, labels, row


def test_after_convergence_only_new_posts_are_corrected(lakehouse: Lakehouse) -> None:
    # Round 1 has no ensemble scores yet: nothing can be corrected, post 1 keeps its wrong label.
    add_labeled_posts(lakehouse, 30, wrong={1: "부정"})
    first, snapshot, labels, _ = one_round(lakehouse)
    assert first.counts["corrected"] == 0 and snapshot is not None
    assert labels.loc[1, "label"] == "부정"
    assert any("relabel skipped" in n for n in first.notes)

    # Then the ensemble scores everything, and a new post arrives with a wrong label too.
    add_labeled_posts(lakehouse, 6, start=31, wrong={31: "부정"}, run_id="label-run-2")
    add_predictions(lakehouse, range(1, 37))
    frozen, _, labels, _ = one_round(lakehouse, last_converged=True)
    assert frozen.counts["decision_frozen"] == 30
    assert labels.loc[1, "label"] == "부정"  # refined before convergence: left alone
    assert labels.loc[31, "label"] == truth(31) == "긍정"  # new: corrected
    assert labels.loc[31, "source"] == "ensemble-corrected"

    # Not frozen: the old post is corrected as well.
    thawed, _, labels, row = one_round(lakehouse, last_converged=False)
    assert thawed.round == 3 and thawed.threshold == 0.84
    assert labels.loc[1, "label"] == truth(1) == "긍정"
    assert row["label_change_rate"].iloc[0] == pytest.approx(1 / 36)


def test_a_round_is_stored_once(lakehouse: Lakehouse) -> None:
    add_labeled_posts(lakehouse, 12)
    with lakehouse.session() as lake:
        inputs = read_inputs(lake)
    result = run_round(inputs, [])
    row = round_row(
        result,
        model_version=None,
        snapshot_id=inputs.snapshot_id,
        mlflow_run_id=None,
        run_id="a",
        refined_at=result.refined_at,
    )
    with lakehouse.session() as lake:
        write_round(lake, result, row)
        with pytest.raises(ValueError, match="round 1 is already stored"):
            write_round(lake, result, row)
        assert len(current_labels(lake)) == 12
        rounds = read_rounds(lake)
    assert rounds["round"].tolist() == [1]
    assert isinstance(rounds["refined_at"].iloc[0], pd.Timestamp)
    assert rounds["refined_at"].iloc[0].tzinfo is None  # naive UTC like the rest of the lake


def test_the_champions_scores_are_trusted_over_a_newer_rejected_version(
    lakehouse: Lakehouse,
) -> None:
    add_labeled_posts(lakehouse, 6)
    add_predictions(lakehouse, range(1, 7), version="20260101T000000000000Z")
    newer = {p: ("중립", 0.99) for p in range(1, 7)}
    add_predictions(lakehouse, range(1, 7), version="20260201T000000000000Z", overrides=newer)
    with lakehouse.session() as lake:
        champion = read_inputs(lake, champion_version="20260101T000000000000Z")
        newest = read_inputs(lake)
        unknown = read_inputs(lake, champion_version="19990101T000000000000Z")
    assert champion.model_version == "20260101T000000000000Z"
    assert set(champion.predictions["ensemble_label"]) == {"긍정", "부정"}
    assert newest.model_version == unknown.model_version == "20260201T000000000000Z"
    assert set(newest.predictions["ensemble_label"]) == {"중립"}


def test_an_llm_label_replaces_a_weak_one_in_a_new_version(lakehouse: Lakehouse) -> None:
    add_labeled_posts(lakehouse, 12, weak=True, wrong={1: "부정"})
    _, _, labels, _ = one_round(lakehouse)
    assert set(labels["source"]) == {"weak"} and labels.loc[1, "labeler"] == "weak:ensemble"
    add_labeled_posts(lakehouse, 12, crawl=False, run_id="label-run-2")
    second, _, labels, _ = one_round(lakehouse)
    assert set(labels["source"]) == {"llm"}
    assert labels.loc[1, "label"] == truth(1) and labels.loc[1, "previous_label"] == "부정"
    assert labels.loc[1, "reason"] == "an LLM label replaces the weak (ensemble) label"
    assert second.counts["labels_changed"] == 1 and second.counts["new_posts"] == 0


def test_a_suspected_injection_gets_no_label_until_a_person_gives_one(
    lakehouse: Lakehouse,
) -> None:
    # Post 4's LLM label says 긍정 (obeying the post, say); the truth is 부정.
    add_labeled_posts(lakehouse, 12, wrong={4: "긍정"}, suspected=frozenset({4}))
    add_predictions(lakehouse, range(1, 13))
    _, _, labels, _ = one_round(lakehouse)
    assert 4 not in labels.index and len(labels) == 11
    with lakehouse.session() as lake:
        assert 4 not in set(read_current_labels(lake)["post_id"])
    # The LLM's answer stays in labeled_chunks, kept aside rather than deleted.
    with lakehouse.session() as lake:
        kept = lake.query("select label from lake.labeled_chunks where post_id = 4")
    assert kept["label"].tolist() == ["긍정"]

    add_feedback(lakehouse, 1, 4, "부정")  # a reviewer's label (an accept or a correction)
    _, _, labels, _ = one_round(lakehouse)
    assert (labels.loc[4, "label"], labels.loc[4, "source"]) == ("부정", "human")
    with lakehouse.session() as lake:
        trained = read_current_labels(lake).set_index("post_id")
    assert trained.loc[4, "source"] == "human"


def test_a_flagged_post_labeled_before_the_flag_was_read_is_not_trained_on(
    lakehouse: Lakehouse,
) -> None:
    add_labeled_posts(lakehouse, 12)
    one_round(lakehouse)  # post 5 got an llm label version
    add_labeled_posts(
        lakehouse, 1, start=5, crawl=False, run_id="label-run-2", suspected=frozenset({5})
    )
    _, _, labels, _ = one_round(lakehouse)
    assert labels.loc[5, "source"] == "llm"  # history is never rewritten ...
    with lakehouse.session() as lake:
        assert 5 not in set(read_current_labels(lake)["post_id"])  # ... but nothing trains on it
