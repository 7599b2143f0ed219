"""Keywords are Kiwi nouns of a post, without stopwords, once per post."""

import pandas as pd
import pytest

from sentiment_assets.lib.marts.keywords import STOPWORDS, is_keyword, post_keywords


@pytest.mark.parametrize(
    ("noun", "kept"),
    [("보스", True), ("히어로", True), ("것", False), ("질문", False), ("템", False)],
)
def test_is_keyword(noun: str, kept: bool) -> None:
    assert is_keyword(noun) is kept


def test_post_keywords_are_distinct_nouns_without_stopwords() -> None:
    posts = pd.DataFrame(
        {
            "board_id": [101, 101, 102],
            "post_id": [1, 2, 3],
            "title": ["보스 패턴 질문 있습니다", None, "ㅋㅋㅋ"],
            "body": ["보스 보상이 너무 적어요. 보스 난이도도 높고요", "사냥터 추천 부탁", None],
        }
    )
    found = post_keywords(posts)
    assert list(found.columns) == ["board_id", "post_id", "keyword"]
    first = found[found["post_id"] == 1]["keyword"].tolist()
    assert "보스" in first and "보상" in first and "패턴" in first
    assert first.count("보스") == 1
    assert not set(found["keyword"]) & STOPWORDS
    assert "사냥터" in found[found["post_id"] == 2]["keyword"].tolist()
    assert 3 not in set(found["post_id"])  # laughter only: no noun, no row
    assert str(found["board_id"].dtype) == "int32"


def test_post_keywords_of_no_posts_is_an_empty_typed_frame() -> None:
    found = post_keywords(pd.DataFrame(columns=pd.Index(["board_id", "post_id", "title", "body"])))
    assert found.empty
    assert list(found.columns) == ["board_id", "post_id", "keyword"]


def test_missing_column_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="body"):
        post_keywords(pd.DataFrame({"board_id": [1], "post_id": [1], "title": ["보스"]}))
