"""The marts show the serving champion's view: one version, recorded once it scored every post,
restored exactly by a rollback; human and refined labels join as label_final."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.marts.keywords import post_keywords
from sentiment_assets.lib.marts.serving import record_serving
from sentiment_assets_tests.marts.sample_lake import write_upstream
from sentiment_assets_tests.marts.test_dbt_build import _dbt
from sentiment_assets_tests.registry.helpers import refined_rows

pytestmark = pytest.mark.slow

PREDICTION_MARTS = (
    "sentiment_by_job_group_day",
    "sentiment_by_job_group_week",
    "sentiment_by_job_day",
    "sentiment_by_job_week",
    "sentiment_by_board_day",
    "sentiment_by_board_week",
    "keyword_sentiment_trends",
    "representative_posts",
    "serving_model",
)


def _marts(lakehouse: Lakehouse) -> dict[str, pd.DataFrame]:
    with lakehouse.session() as lake:
        out = {}
        for table in PREDICTION_MARTS:
            frame = lake.query(f"select * from lake.marts.{table}")
            if table == "serving_model":
                frame = frame.drop(columns=["serving_since", "reason"])
            out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return out


def _serve(lakehouse: Lakehouse, version: str, warehouse: Path, tmp_path: Path) -> None:
    with lakehouse.session() as lake:
        record_serving(lake, version, int(version[1:]), reason="test")
    done = _dbt(["run", "--select", "int_serving_model+", "model_quality"], warehouse, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]


def test_marts_follow_the_recorded_champion_and_a_rollback_restores_its_numbers(
    lakehouse: Lakehouse, warehouse: Path, tmp_path: Path
) -> None:
    write_upstream(lakehouse)  # v1 and v2 scored every post; v2's scores are the newer
    with lakehouse.session() as lake:
        posts = lake.query("select board_id, post_id, title, body from lake.raw_posts")
        lake.append("post_keywords", post_keywords(posts))
        record_serving(lake, "v1", 1, reason="first champion")
    built = _dbt(["build"], warehouse, tmp_path)
    assert built.returncode == 0, built.stdout[-3000:]
    first = _marts(lakehouse)
    for table, frame in first.items():
        assert set(frame["model_version"]) == {"v1"}, table  # the champion's, not the newest

    _serve(lakehouse, "v2", warehouse, tmp_path)  # a promotion
    promoted = _marts(lakehouse)
    for table, frame in promoted.items():
        assert set(frame["model_version"]) == {"v2"}, table
    assert not promoted["sentiment_by_job_week"].equals(first["sentiment_by_job_week"])

    _serve(lakehouse, "v1", warehouse, tmp_path)  # a rollback
    restored = _marts(lakehouse)
    for table, frame in restored.items():
        pd.testing.assert_frame_equal(frame, first[table], obj=table)
    with lakehouse.session() as lake:
        quality = lake.query("select model_version, is_serving from lake.marts.model_quality")
    assert dict(zip(quality["model_version"], quality["is_serving"], strict=True)) == {
        "v1": True,
        "v2": False,
    }


def test_label_final_is_a_persons_label_first_then_the_refined_one(
    lakehouse: Lakehouse, warehouse: Path, tmp_path: Path
) -> None:
    write_upstream(lakehouse)  # three posts get a person's label; one label is free text
    with lakehouse.session() as lake:
        human = lake.query(
            "select board_id, post_id, new_label from lake.feedback where post_id is not null"
        )
        others = lake.query(
            "select board_id, post_id from lake.raw_posts anti join lake.feedback "
            "using (board_id, post_id) order by 1, 2 limit 2"
        )
    refined = [
        *zip(human["board_id"], human["post_id"], strict=True),
        *zip(others["board_id"], others["post_id"], strict=True),
    ]
    # Refinement says 긍정 everywhere; for the first three a person said otherwise.
    lakehouse.append(
        "refined_labels", refined_rows([(int(b), int(p), "글", "긍정", 1) for b, p in refined])
    )
    # Only what the assertions read: the build and its tests run in the test above.
    built = _dbt(["run", "--select", "+sentiment_by_job_week"], warehouse, tmp_path)
    assert built.returncode == 0, built.stdout[-3000:]
    with lakehouse.session() as lake:
        final = lake.query(
            "select board_id, post_id, label, label_final, label_final_source "
            "from lake.intermediate.int_post_sentiment"
        ).set_index(["board_id", "post_id"])
        week = lake.query(
            "select sum(final_labeled_posts) as labeled, sum(human_labeled_posts) as human, "
            "sum(agreeing_posts) as agreeing, sum(corrected_posts) as corrected "
            "from lake.marts.sentiment_by_job_week"
        )
    for b, p, label in zip(human["board_id"], human["post_id"], human["new_label"], strict=True):
        assert (final.loc[(b, p), "label_final"], final.loc[(b, p), "label_final_source"]) == (
            label,
            "human",
        )
    for b, p in zip(others["board_id"], others["post_id"], strict=True):
        assert tuple(final.loc[(b, p), ["label_final", "label_final_source"]]) == ("긍정", "llm")
    labeled = final.loc[final["label_final"].notna()]
    assert len(labeled) == 5
    by_human = labeled["label_final_source"] == "human"
    assert week.iloc[0].to_dict() == {
        "labeled": 5,
        "human": 3,
        "agreeing": int((labeled["label_final"] == labeled["label"]).sum()),
        "corrected": int(
            (labeled.loc[by_human, "label_final"] != labeled.loc[by_human, "label"]).sum()
        ),
    }
