"""A small labeled Korean corpus written for the tests (no NSMC text): templates with clear cues."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

SUBJECTS = ("메이플", "이번 패치", "히어로", "비숍 스킬", "보스 레이드", "신규 직업", "이벤트")
POSITIVE = ("정말 재밌어요", "최고의 업데이트", "너무 좋아요 ^^", "강추합니다", "만족스럽네요 ㅋㅋ")
NEGATIVE = ("완전 망했네요", "최악이다 ㅡㅡ", "너무 별로예요", "실망스럽다 T_T", "화가 납니다")
NEUTRAL = ("점검 시간 공지", "일정 정리했습니다", "패턴 질문 있어요", "세팅 문의드림", "모집합니다")


def corpus_frame() -> pd.DataFrame:
    """About 300 rows: ratings 9–10 positive, 1–3 negative, 5–7 neutral; splits by position."""
    rows = []
    groups = ((POSITIVE, (9, 10)), (NEGATIVE, (1, 2, 3)), (NEUTRAL, (5, 6, 7)))
    for phrases, ratings in groups:
        for i, (subject, phrase) in enumerate(itertools.product(SUBJECTS, phrases)):
            for j, suffix in enumerate(("", " 진짜")):
                n = len(rows)
                rows.append(
                    {
                        "review_id": n,
                        "text": f"{subject} {phrase}{suffix}",
                        "rating": ratings[(i + j) % len(ratings)],
                        "split": ("dev", "test", "train", "train", "train")[n % 5],
                    }
                )
    return pd.DataFrame(rows)


def write_corpus(path: Path) -> Path:
    """Write the corpus in the format of `path`'s extension; returns `path`."""
    frame = corpus_frame()
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_csv(path, sep="\t", index=False)
    return path
