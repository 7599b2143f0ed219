"""`sentiment label` end to end in-process, and the weak labeler on its own."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from sentiment_assets.cli import label as label_command
from sentiment_assets.cli.main import SUBCOMMANDS
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer
from sentiment_assets.lib.labeling.records import PostToLabel
from sentiment_assets.lib.labeling.weak import WeakLabeler
from sentiment_assets_tests.labeling import keyword_model
from sentiment_assets_tests.labeling.conftest import assert_no_invented_labels


def main(argv: list[str]) -> int:
    """`sentiment <argv>` with only this subcommand registered (others may not import here)."""
    parser = argparse.ArgumentParser(prog="sentiment")
    label_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_label_is_a_sentiment_subcommand() -> None:
    assert "sentiment_assets.cli.label" in SUBCOMMANDS


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_label_command_uses_the_pipeline_code_and_its_cache(
    openai_server: FakeLlmServer, tmp_path: Path, warehouse: Path
) -> None:
    posts = write_jsonl(
        tmp_path / "posts.jsonl",
        [
            {"id": 17, "text": "보스 보상 너프 진짜 최악"},
            {"id": "x", "title": "22성 성공", "body": "너무 행복"},
            {"text": "코어 순서 질문"},
        ],
    )
    out = tmp_path / "out" / "labels.jsonl"
    argv = ["label", "--input", str(posts), "--output", str(out), "--provider", "openai"]
    argv += ["--base-url", openai_server.base_url, "--model", "gemma-3-12b"]
    assert main(argv) == 0
    rows = read_jsonl(out)
    assert [(r["id"], r["label"], r["status"]) for r in rows] == [
        (17, "부정", "ok"),
        ("x", "긍정", "ok"),
        (3, "중립", "ok"),
    ]
    assert rows[0]["provider"] == "openai" and rows[0]["attempts"] == 1
    assert (warehouse / "llm_cache.sqlite").is_file()
    calls = len(openai_server.model.seen)
    assert main(argv) == 0 and len(openai_server.model.seen) == calls  # served from the cache
    openai_server.model.queue("prose", "prose", "prose")
    argv_all = [*argv, "--no-cache", "--all-attempts", "--max-attempts", "2"]
    assert main(argv_all) == 1  # some posts got no label
    attempts = read_jsonl(out)
    assert [(r["id"], r["attempt"], r["status"]) for r in attempts] == [
        (17, 1, "invalid"),
        (17, 2, "invalid"),
        ("x", 1, "invalid"),
        ("x", 2, "invalid"),
        (3, 1, "invalid"),
        (3, 2, "invalid"),
    ]
    assert all(r["label"] is None and r["raw_response"] for r in attempts)


def test_label_command_rejects_bad_input_before_any_call(
    openai_server: FakeLlmServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "좋아요"}\nnot json\n{"id": 1, "text": "  "}\n[1, 2]\n{"text": "a"}\n')
    bad.write_text(bad.read_text() + '{"id": 9, "text": "a"}\n{"id": 9, "text": "b"}\n')
    out = tmp_path / "labels.jsonl"
    argv = ["label", "--input", str(bad), "--output", str(out), "--provider", "openai"]
    argv += ["--base-url", openai_server.base_url, "--model", "m"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "4 bad lines, nothing labeled" in err
    assert "line 2: not JSON" in err and "line 3: no text" in err
    assert "line 4: not a JSON object" in err and "line 7: duplicate id 9" in err
    assert not out.exists() and openai_server.model.seen == []
    missing = ["label", "--input", str(tmp_path / "nope.jsonl"), "--output", str(out)]
    assert main([*missing, "--provider", "weak"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_label_command_weak_without_a_model_says_what_to_do(
    tmp_path: Path, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    posts = write_jsonl(tmp_path / "p.jsonl", [{"text": "좋아요"}])
    argv = ["label", "--input", str(posts), "--output", str(tmp_path / "o.jsonl")]
    assert main([*argv, "--provider", "weak"]) == 2
    err = capsys.readouterr().err
    assert "sentiment train" in err or "cannot be imported" in err


def test_weak_labeler_marks_rows_weak_and_never_labels_a_rejected_text(tmp_path: Path) -> None:
    keyword_model.install(tmp_path, version="v3")
    labeler = WeakLabeler(keyword_model.load(tmp_path), batch_size=2)
    result = labeler.label(
        [PostToLabel("a", "최악의 패치"), PostToLabel("b", " "), PostToLabel("c", "강화 성공")]
    )
    assert_no_invented_labels(result.attempts)
    assert [(a.key, a.status, a.label) for a in result.attempts] == [
        ("a", "ok", "부정"),
        ("b", "failed", None),
        ("c", "ok", "긍정"),
    ]
    ok = result.attempts[0]
    assert ok.is_weak and ok.model == "ensemble@v3" and ok.prompt_version is None
    assert ok.confidence == pytest.approx(0.8) and json.loads(ok.raw_response)["부정"] == 0.8
    assert result.summary.posts_labeled == 2 and result.summary.provider == "weak"


def test_weak_labeler_records_a_broken_model_as_failed() -> None:
    class Broken:
        version = "bad"

        def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
            return np.ones((len(texts), 2))

    result = WeakLabeler(Broken()).label([PostToLabel("a", "글")])
    assert [(a.status, a.label) for a in result.attempts] == [("failed", None)]
    assert "expected probabilities of shape (1, 3)" in (result.attempts[0].error or "")
