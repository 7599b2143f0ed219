"""Keywords of a post: its Kiwi nouns, minus words that say nothing about the topic."""

from __future__ import annotations

import pandas as pd

from sentiment_assets.lib.text.morphemes import nouns
from sentiment_assets.lib.text.normalize import post_text

KEYWORD_COLUMNS = ("board_id", "post_id", "keyword")
KEYWORD_TEXT_CHARS = 2000
"""Long bodies are cut here: topics show up early, and Kiwi time grows with length."""

# Nouns every board uses whatever the topic: pronoun-like and filler nouns, time words, and the
# community's own boilerplate (질문, 글, 게시판). Job and boss names are kept: they are the topic.
STOPWORDS = frozenset(
    {
        "것",
        "거",
        "수",
        "등",
        "때",
        "중",
        "곳",
        "점",
        "쪽",
        "번",
        "이거",
        "그거",
        "저거",
        "이것",
        "그것",
        "저것",
        "여기",
        "거기",
        "저기",
        "뭐",
        "무엇",
        "누구",
        "자기",
        "사람",
        "생각",
        "정도",
        "경우",
        "이번",
        "오늘",
        "어제",
        "내일",
        "요즘",
        "지금",
        "이후",
        "이전",
        "다음",
        "처음",
        "진짜",
        "정말",
        "완전",
        "혹시",
        "부탁",
        "질문",
        "답변",
        "글",
        "게시판",
        "본문",
        "내용",
        "제목",
        "댓글",
        "추천",
        "조회",
        "님",
        "분",
    }
)


def is_keyword(noun: str) -> bool:
    """A noun counts as a keyword when it has two or more characters and is no stopword."""
    return len(noun) >= 2 and noun not in STOPWORDS


def post_keywords(posts: pd.DataFrame) -> pd.DataFrame:
    """One row per post per distinct keyword of its title and body.

    Args:
        posts: columns board_id, post_id, title, body (title or body may be null).

    Returns:
        Columns board_id, post_id, keyword; posts without any keyword have no rows.

    Raises:
        ValueError: a required column is missing.
    """
    missing = {"board_id", "post_id", "title", "body"} - set(posts.columns)
    if missing:
        raise ValueError(f"posts lack column(s) {sorted(missing)} needed for keywords")
    texts = [
        post_text(
            title if isinstance(title, str) else None,
            body if isinstance(body, str) else None,
            max_chars=KEYWORD_TEXT_CHARS,
        )
        for title, body in zip(posts["title"], posts["body"], strict=True)
    ]
    rows = []
    for board_id, post_id, found in zip(
        posts["board_id"], posts["post_id"], nouns(texts), strict=True
    ):
        for keyword in dict.fromkeys(n for n in found if is_keyword(n)):
            rows.append((int(board_id), int(post_id), keyword))
    frame = pd.DataFrame.from_records(rows, columns=pd.Index(KEYWORD_COLUMNS))
    return frame.astype({"board_id": "int32", "post_id": "int64", "keyword": "string"})
