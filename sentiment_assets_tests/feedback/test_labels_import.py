"""`sentiment labels import FILE`: hand-labeled posts become human labels, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.defs.feedback.assets import feedback
from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.feedback.store import FeedbackStore, default_path
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.refine.inputs import human_labels

GOOD = pd.DataFrame(
    {
        "text": ["보스 보상 너무 좋다", "서버 렉 최악", "점검 일정 공지", "자유 문장 좋아요"],
        "label": ["긍정", "부정", "neutral", "positive"],
        "board_id": ["2294", "", "", ""],
        "post_id": ["11", "", "", ""],
        "url": ["", "https://www.inven.co.kr/board/maple/2295/12?p=1", "", ""],
        "annotator": ["kim", "lee", "", ""],
    }
)


@pytest.fixture
def store(warehouse: Path) -> FeedbackStore:
    return FeedbackStore(default_path(warehouse))


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        records = frame.to_dict("records")
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_an_import_stores_human_labels_with_provenance_once(
    suffix: str, tmp_path: Path, store: FeedbackStore, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(GOOD, tmp_path / f"labels{suffix}")
    assert main(["labels", "import", str(path), "--annotator", "team-a"]) == 0
    assert "imported 4 human labels" in capsys.readouterr().out
    rows = store.rows_after(0)
    assert [(r.board_id, r.post_id, r.new_label, r.reviewer) for r in rows] == [
        (2294, 11, "긍정", "kim"),
        (2295, 12, "부정", "lee"),
        (None, None, "중립", "team-a"),
        (None, None, "긍정", "team-a"),
    ]
    assert {r.source for r in rows} == {"import"}
    where = {".csv": "line 2", ".jsonl": "line 1", ".parquet": "row 1"}[suffix]
    assert rows[0].comment == f"imported from {path.name} {where}"
    assert rows[0].text == "보스 보상 너무 좋다"
    # The same file again is a no-op.
    assert main(["labels", "import", str(path), "--annotator", "team-a"]) == 0
    assert "imported 0 human labels" in capsys.readouterr().out
    assert store.count() == 4


def test_bad_rows_are_all_named_with_their_line_and_nothing_is_imported(
    tmp_path: Path, store: FeedbackStore, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = pd.concat(
        [
            GOOD,
            pd.DataFrame(
                {
                    "text": ["좋다", "   ", "또 좋다", "글"],
                    "label": ["좋음", "긍정", "긍정", "부정"],
                    "board_id": ["", "", "2294", "1"],
                    "post_id": ["", "", "11", ""],
                    "url": ["", "", "", ""],
                    "annotator": ["", "", "", ""],
                }
            ),
        ],
        ignore_index=True,
    )
    path = _write(bad, tmp_path / "labels.csv")
    assert main(["labels", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 6: label '좋음' is not one of 부정, 중립, 긍정" in err
    assert "line 7: text is empty" in err
    assert "line 8: post 2294/11 is already labeled on line 2" in err
    assert "line 9: board_id and post_id go together" in err
    assert store.count() == 0


def test_a_malformed_jsonl_line_and_missing_columns_are_refused(
    tmp_path: Path, store: FeedbackStore, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"text": "좋다", "label": "긍정"}\n{"text": "좋다"\n\n{"label": "부정"}\n')
    assert main(["labels", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2: not valid JSON" in err and "line 4: needs the keys text and label" in err
    csv_path = tmp_path / "no_label.csv"
    csv_path.write_text("text,score\n좋다,1\n")
    assert main(["labels", "import", str(csv_path)]) == 2
    assert "lacks column(s) label" in capsys.readouterr().err
    assert main(["labels", "import", str(tmp_path / "labels.xlsx")]) == 2
    assert store.count() == 0


def test_imported_labels_reach_the_lake_and_refinement_as_human_labels(
    tmp_path: Path, warehouse: Path, store: FeedbackStore
) -> None:
    path = _write(GOOD, tmp_path / "labels.csv")
    assert main(["labels", "import", str(path)]) == 0
    resources = {
        "lakehouse": LakehouseResource(path=str(warehouse)),
        "feedback_store": FeedbackStoreResource(path=str(default_path(warehouse))),
    }
    assert dg.materialize([feedback], resources=resources).success
    with Lakehouse(warehouse).session() as lake:
        sources = lake.query("select distinct source from lake.feedback")["source"].tolist()
        people = human_labels(lake)
    assert sources == ["import"]
    assert sorted(zip(people["board_id"], people["post_id"], strict=True)) == [
        (2294, 11),
        (2295, 12),
    ]
