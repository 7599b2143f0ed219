from __future__ import annotations

import pytest

from sentiment_assets.lib.text.emoticons import emoticons
from sentiment_assets.lib.text.morphemes import morphemes
from sentiment_assets.lib.text.normalize import normalize, post_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("재밌어요 :) ^^", [":)", "^^"]),
        ("최악 ㅡㅡ T_T", ["ㅡㅡ", "T_T"]),
        ("^_^ :-( >_< -_-;;", ["^_^", ":-(", ">_<", "-_-;;"]),
        ("좋아요 <3 xD", ["<3", "xD"]),
        ("12:30 boxDrop TT", []),
    ],
)
def test_emoticons_are_found_whole(text: str, expected: list[str]) -> None:
    assert emoticons(text) == expected


def test_morphemes_keep_emoticons_laughter_and_emoji_as_tokens() -> None:
    tokens = morphemes(["재밌어요 :) ^^", "최악 -_- T_T ㅠㅠㅠㅠ", "😀😀", "ㅋㅋㅋㅋㅋ 대박"])
    assert ":)/EMO" in tokens[0] and "^^/EMO" in tokens[0]
    assert "-_-/EMO" in tokens[1] and "T_T/EMO" in tokens[1]
    assert "ㅠㅠ/SW" in tokens[1]  # crying run capped at two, kept as a symbol token
    assert tokens[2] == ["😀/W_EMOJI", "😀/W_EMOJI"]
    assert tokens[3][0] == "ㅋㅋ/SW"


def test_empty_and_whitespace_give_no_tokens() -> None:
    assert morphemes(["", "   \n\t"]) == [[], []]


def test_normalize_caps_runs_and_post_text_keeps_the_head() -> None:
    assert normalize("ㅋㅋㅋㅋㅋ 좋다!!!!  http://x.y/z") == "ㅋㅋ 좋다!!"
    long = post_text("제목", "가나다라 " * 2_000)
    assert long.startswith("제목 . ") and len(long) == 512
