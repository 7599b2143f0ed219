"""Small demo-shaped upstream tables, written into a temporary lakehouse for the marts tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from sentiment_assets.lib.lakehouse import Lakehouse

BASE = datetime(2025, 3, 3, 1, 0)  # a Monday, 10:00 KST
JOBS = [
    ("전사", "히어로", 101),
    ("전사", "팔라딘", 101),
    ("마법사", "비숍", 102),
    ("궁수", "보우마스터", 103),
    (None, None, 200),  # the free board: no job group, no job
]
TITLES = [
    ("보스 패턴 너무 어려워요 환불 원합니다", "부정"),
    ("이번 패치 밸런스 최고 만족합니다", "긍정"),
    ("사냥터 추천 부탁드립니다", "중립"),
    ("보스 보상 너무 짜다 패치 실망", "부정"),
    ("신규 스킬 이펙트 멋지네요 만족", "긍정"),
]
LABELS = ("부정", "중립", "긍정")


def _keys(posts: pd.DataFrame) -> list[tuple[int, int]]:
    return [(int(b), int(p)) for b, p in zip(posts["board_id"], posts["post_id"], strict=True)]


def raw_posts(n: int = 40) -> pd.DataFrame:
    """`n` posts spread over the jobs above, two weeks and two model-visible days per post."""
    rows = []
    for i in range(n):
        job_group, job, board_id = JOBS[i % len(JOBS)]
        title, _ = TITLES[i % len(TITLES)]
        posted = BASE + timedelta(hours=9 * i)
        rows.append(
            {
                "board_id": board_id,
                "post_id": 1000 + i,
                "board_name": f"board {board_id}",
                "job_group": job_group,
                "category": job,
                "job": job,
                "title": title,
                "body": f"{title} 본문 {i}",
                "author_hash": f"a{i % 7}",
                "posted_at": posted,
                "views": 10 * i,
                "recommends": i % 5,
                "url": f"https://www.inven.co.kr/board/maple/{board_id}/{1000 + i}",
                "content_hash": f"h{i}",
                "crawled_at": posted + timedelta(minutes=10),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.astype({"board_id": "int32", "post_id": "int64", "views": "int32"})


def ensemble_predictions(posts: pd.DataFrame, versions: tuple[str, ...]) -> pd.DataFrame:
    """One prediction per post per model version; later versions agree with the title more."""
    rows = []
    for v, version in enumerate(versions):
        for i, (board_id, post_id) in enumerate(_keys(posts)):
            truth = TITLES[i % len(TITLES)][1]
            label = truth if (i + v) % 3 else LABELS[(LABELS.index(truth) + 1) % 3]
            confidence = 0.5 + ((i * 7 + v) % 50) / 100
            probs = {lab: (1 - confidence) / 2 for lab in LABELS}
            probs[label] = confidence
            rows.append(
                {
                    "board_id": board_id,
                    "post_id": post_id,
                    "model_version": version,
                    "p_neg": probs["부정"],
                    "p_neu": probs["중립"],
                    "p_pos": probs["긍정"],
                    "p_lexicon_pos": probs["긍정"],
                    "label": label,
                    "confidence": confidence,
                    "disagreement": 0.1 * (i % 3),
                    "member_probabilities": "{}",
                    "status": "ok",
                    "scored_at": pd.Timestamp(BASE + timedelta(days=20 + v, seconds=i), tz="UTC"),
                }
            )
    # A post with no text: recorded, but with no label to count.
    rows.append({**rows[0], "model_version": "v0", "label": None, "status": "empty"})
    return pd.DataFrame(rows)


def labeled_chunks(posts: pd.DataFrame) -> pd.DataFrame:
    """An LLM attempt per post (some invalid or failed, some weak) with usage and cost."""
    rows = []
    statuses = ("ok", "ok", "ok", "invalid", "failed")
    for i, (board_id, post_id) in enumerate(_keys(posts)):
        status = statuses[i % len(statuses)]
        rows.append(
            {
                "chunk_id": "chunk-0001",
                "board_id": board_id,
                "post_id": post_id,
                "label": TITLES[i % len(TITLES)][1] if status != "failed" else None,
                "confidence": 0.9 if status == "ok" else None,
                "provider": "gemini" if i % 2 else "openai_compat",
                "model": "gemini-2.5-flash" if i % 2 else "qwen3",
                "prompt_version": "v1",
                "tokens_in": 120 + i,
                "tokens_out": 12,
                "latency_ms": 800.0 + 10 * i,
                "cost_usd": 0.0001 * i if i % 2 else None,
                "status": status,
                "is_weak": i % 11 == 0,
                "labeled_at": pd.Timestamp(BASE + timedelta(days=15, minutes=i), tz="UTC"),
            }
        )
    return pd.DataFrame(rows)


def feedback(posts: pd.DataFrame) -> pd.DataFrame:
    """A few corrections, one of them on free text (no post)."""
    picks = posts.iloc[[0, 1, 2]]
    rows = [
        {
            "feedback_id": i + 1,
            "board_id": board_id,
            "post_id": post_id,
            "text": None,
            "old_label": "중립",
            "new_label": LABELS[i],
            "reviewer": f"reviewer{i % 2}",
            "source": "api",
            "created_at": pd.Timestamp(BASE + timedelta(days=21, hours=i), tz="UTC"),
        }
        for i, (board_id, post_id) in enumerate(_keys(picks))
    ]
    rows.append(
        {
            "feedback_id": 99,
            "board_id": None,
            "post_id": None,
            "text": "자유 문장",
            "old_label": None,
            "new_label": "긍정",
            "reviewer": "reviewer0",
            "source": "review-app",
            "created_at": pd.Timestamp(BASE + timedelta(days=22), tz="UTC"),
        }
    )
    return pd.DataFrame(rows).astype({"board_id": "Int32", "post_id": "Int64"})


def crawl_errors() -> pd.DataFrame:
    """Two failed pages on one board."""
    return pd.DataFrame(
        {
            "url": ["https://www.inven.co.kr/board/maple/101?p=3", "https://x/101/1999"],
            "board_id": [101, 101],
            "page_kind": ["list", "article"],
            "error": ["HTTP 503", "parse: no title"],
            "http_status": [503, 200],
            "retryable": [True, False],
            "saved_path": [None, "errors/101/1999.html"],
            "occurred_at": [BASE, BASE + timedelta(hours=1)],
            "crawl_run": ["r1", "r1"],
        }
    )


def write_upstream(lake: Lakehouse, *, with_feedback: bool = True, n_posts: int = 40) -> None:
    """Write every upstream table the marts read (feedback optional) into `lake`."""
    posts = raw_posts(n_posts)
    with lake.session() as session:
        session.append("raw_posts", posts, key=("board_id", "post_id"))
        session.append("ensemble_predictions", ensemble_predictions(posts, ("v1", "v2")))
        session.append("labeled_chunks", labeled_chunks(posts))
        session.append("crawl_errors", crawl_errors())
        if with_feedback:
            session.append("feedback", feedback(posts))
