"""refined_labels materialized by Dagster into a real temporary lakehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from sentiment_assets.defs.labeling.resources import LlmResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.refine.assets import refined_labels
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer, keyword_label
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.refine.tables import (
    LABEL_QUALITY,
    REFINEMENT_ROUNDS,
    current_labels,
    label_history,
)
from sentiment_assets_tests.refine.fixtures import (
    add_feedback,
    add_labeled_posts,
    add_predictions,
    truth,
)


def materialize(lakehouse: Lakehouse, llm: dict | None = None, **config: object) -> dict[str, Any]:
    result = dg.materialize(
        [refined_labels],
        resources={
            "lakehouse": LakehouseResource(path=str(lakehouse.root)),
            "llm": LlmResource(**(llm or {"provider": "weak"})),  # type: ignore[arg-type]
        },
        run_config={"ops": {"refined_labels": {"config": {"track": False, **config}}}},
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_two_rounds_keep_full_history_and_human_wins(lakehouse: Lakehouse, warehouse: Path) -> None:
    # Posts 1 and 4 carry wrong LLM labels; a person calls post 5 neutral.
    add_labeled_posts(lakehouse, 36, wrong={1: "부정", 4: "긍정"})
    add_predictions(lakehouse, range(1, 37))
    add_feedback(lakehouse, 1, 5, "중립")

    first = materialize(lakehouse, track=True)
    assert first["round"] == 1 and first["threshold"] == 0.8
    assert first["corrected"] == 2 and first["human"] == 1
    assert first["relabel"].startswith("no LLM provider configured")
    assert "mlflow_run_id" in first
    with lakehouse.session() as lake:
        history1 = label_history(lake)
        current = current_labels(lake).set_index("post_id")
    assert len(history1) == 36 + 3
    assert current.loc[1, "label"] == truth(1) and current.loc[1, "source"] == "ensemble-corrected"
    assert current.loc[1, "previous_label"] == "부정" and current.loc[1, "label_version"] == 2
    assert current.loc[5, "label"] == "중립" and current.loc[5, "source"] == "human"
    assert current.loc[2, "source"] == "llm" and current.loc[2, "label_version"] == 1
    assert set(current["label"]) <= set(LABELS)
    assert current["text"].str.contains("최고|최악").all()

    # Between rounds: a person corrects post 7, and new posts arrive.
    add_feedback(lakehouse, 2, 7, "부정")
    add_labeled_posts(lakehouse, 6, start=37, run_id="label-run-2")
    add_predictions(lakehouse, range(37, 43))
    second = materialize(lakehouse)
    assert second["round"] == 2 and second["threshold"] == 0.82
    assert second["human"] == 1 and second["corrected"] == 0
    assert second["new_posts"] == 6 and second["labels_changed"] == 1
    assert second["label_change_rate"] == 1 / 36
    with lakehouse.session() as lake:
        history2 = label_history(lake)
        rounds = lake.query(f"select * from lake.{REFINEMENT_ROUNDS} order by round")
        quality = lake.query(f"select round, count(*) as n from lake.{LABEL_QUALITY} group by 1")
        # the first round's labels are still readable at its snapshot
        at_first = current_labels(lake, snapshot_id=int(first["snapshot_id"]))
    # Append-only: every round-1 row is still there, unchanged.
    old = history2.loc[history2["round"] == 1].drop(columns="is_current").reset_index(drop=True)
    pd.testing.assert_frame_equal(old, history1.drop(columns="is_current"))
    assert len(history2) == len(history1) + 6 + 1
    post7 = history2.loc[history2["post_id"] == 7]
    assert post7["label"].tolist() == ["긍정", "부정"] == [truth(7), "부정"]
    assert post7["source"].tolist() == ["llm", "human"]
    assert post7["is_current"].tolist() == [False, True]
    assert rounds["round"].tolist() == [1, 2]
    assert rounds["next_threshold"].tolist() == [0.82, 0.84]
    assert dict(zip(quality["round"], quality["n"], strict=True)) == {1: 36, 2: 42}
    assert len(at_first) == 36 and at_first.set_index("post_id").loc[7, "label"] == truth(7)


def test_doubtful_labels_go_to_the_llm_and_invalid_answers_never_become_labels(
    lakehouse: Lakehouse,
) -> None:
    # The ensemble is unsure about posts 1-4 (and the labels of 1 and 2 are wrong).
    add_labeled_posts(lakehouse, 30, wrong={1: "부정", 2: "부정"})
    unsure = {p: ("중립", 0.5) for p in (1, 2, 3, 4)}
    add_predictions(lakehouse, range(1, 31), overrides=unsure)
    with FakeLlmServer("openai") as server:
        # every answer's first item carries a label outside the set
        server.model.queue(*["bad_label"] * 50)
        llm = {
            "provider": "openai",
            "base_url": server.base_url,
            "model": "gemma-3-12b",
            "batch_size": 1,
            "max_attempts": 1,
            "base_delay_s": 0.01,
            "track_usage": False,
        }
        meta = materialize(lakehouse, llm, max_relabel=3, max_review=2)
        asked = server.model.posts_seen
    assert asked == 3  # the budget: three most doubtful posts, one request each
    assert meta["relabel_sent"] == 3 and meta["relabeled"] == 0
    with lakehouse.session() as lake:
        history = label_history(lake)
        quality = lake.query(f"select * from lake.{LABEL_QUALITY}")
    assert set(history["label"]) <= set(LABELS)
    assert not (history["source"] == "llm-relabel").any()
    assert quality["needs_review"].sum() == 2
    assert (quality.loc[quality["needs_review"], "decision"] == "relabel-unanswered").any()

    # A sane server: the relabel fixes the wrong labels the ensemble could not.
    with FakeLlmServer("openai") as server:
        llm["base_url"] = server.base_url
        second = materialize(lakehouse, llm, max_relabel=4)
    assert second["relabeled"] == 2
    with lakehouse.session() as lake:
        current = current_labels(lake).set_index("post_id")
    for post in (1, 2):
        assert current.loc[post, "source"] == "llm-relabel"
        assert current.loc[post, "label"] == keyword_label(current.loc[post, "text"]) == truth(post)
        assert current.loc[post, "labeler"] == "openai:gemma-3-12b"


def test_no_labels_yet_is_an_empty_round(lakehouse: Lakehouse) -> None:
    meta = materialize(lakehouse)
    assert meta["round"] == 1 and meta["versions_written"] == 0
    with lakehouse.session() as lake:
        assert current_labels(lake).empty
        assert len(lake.query(f"select * from lake.{REFINEMENT_ROUNDS}")) == 1


def test_misconfigured_llm_fails_the_round_and_writes_nothing(lakehouse: Lakehouse) -> None:
    add_labeled_posts(lakehouse, 12)
    result = dg.materialize(
        [refined_labels],
        resources={
            "lakehouse": LakehouseResource(path=str(lakehouse.root)),
            "llm": LlmResource(provider="openai", model="m"),  # no base_url
        },
        run_config={"ops": {"refined_labels": {"config": {"track": False}}}},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert "base_url" in str(failure.event_specific_data)
    with lakehouse.session() as lake:
        assert not lake.table_exists(REFINEMENT_ROUNDS)
        assert current_labels(lake).empty


def test_real_chain_from_posts_to_refined_labels(lakehouse: Lakehouse, tmp_path: Path) -> None:
    # The upstream assets themselves (not hand-written tables): a trained lexicon ensemble,
    # weak labels from it, its scores, then a refinement round over them.
    from sentiment_assets.defs.corpus.assets import base_corpus
    from sentiment_assets.defs.ensemble.assets import ensemble_predictions
    from sentiment_assets.defs.labeling.assets import labeled_chunks, raw_chunks
    from sentiment_assets.defs.training.assets import MEMBER_ASSETS, ensemble_model
    from sentiment_assets.defs.training.resources import ModelStoreResource
    from sentiment_assets_tests.labeling.conftest import add_raw_posts
    from sentiment_assets_tests.models.synthetic import write_corpus
    from sentiment_assets_tests.refine.fixtures import TEXTS

    lexicon_model = next(a for a in MEMBER_ASSETS if a.key.to_user_string() == "lexicon_model")
    corpus = write_corpus(tmp_path / "corpus.parquet")
    add_raw_posts(lakehouse, 24, texts=TEXTS)
    result = dg.materialize(
        [
            base_corpus,
            lexicon_model,
            ensemble_model,
            raw_chunks,
            labeled_chunks,
            ensemble_predictions,
            refined_labels,
        ],
        resources={
            "lakehouse": LakehouseResource(path=str(lakehouse.root)),
            "model_store": ModelStoreResource(),
            "llm": LlmResource(provider="weak", track_usage=False),
        },
        run_config={
            "ops": {
                "base_corpus": {"config": {"source": str(corpus), "train_rows": None}},
                "refined_labels": {"config": {"track": False}},
            }
        },
    )
    assert result.success
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("refined_labels")
    ]
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    assert meta["new_posts"] == 24 and meta["ensemble_model_version"] != "none"
    with lakehouse.session() as lake:
        current = current_labels(lake)
        scored = lake.query("select count(*) as n from lake.ensemble_predictions")
    assert len(current) == 24 and int(scored["n"].iloc[0]) == 24
    assert set(current["source"]) <= {"weak", "ensemble-corrected"}
    assert set(current["label"]) <= set(LABELS)
    assert (current["ensemble_model_version"] == meta["ensemble_model_version"]).all()
