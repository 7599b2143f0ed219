"""Pure helpers of the reports: months, the cloud layout, number formats, link filter."""

from __future__ import annotations

import itertools

import pytest

from sentiment_assets.lib.reports.marts import Keyword
from sentiment_assets.lib.reports.months import Month
from sentiment_assets.lib.reports.render import count_change, pp_change, safe_link, signed
from sentiment_assets.lib.reports.svg import CLOUD_HEIGHT, CLOUD_WIDTH, layout_cloud
from sentiment_assets.lib.reports.writer import report_file_name


@pytest.mark.parametrize(
    ("text", "previous", "following"),
    [("2025-01", "2024-12", "2025-02"), ("2024-12", "2024-11", "2025-01")],
)
def test_months_roll_over_the_year(text: str, previous: str, following: str) -> None:
    month = Month.parse(text)
    assert str(month.previous()) == previous and str(month.next()) == following
    assert month.end == month.next().start


def test_cloud_words_never_overlap_and_stay_inside() -> None:
    keywords = [Keyword(f"키워드{i}", 200 - 4 * i, None) for i in range(40)]
    words = layout_cloud(keywords)
    assert len(words) >= 30
    assert words[0].keyword.keyword == "키워드0" and words[0].font_px > words[-1].font_px
    for a, b in itertools.combinations(words, 2):
        assert not a.overlaps(b, pad=0), (a.keyword, b.keyword)
    for w in words:
        assert w.x - w.width / 2 >= 0 and w.x + w.width / 2 <= CLOUD_WIDTH
        assert w.y - w.height / 2 >= 0 and w.y + w.height / 2 <= CLOUD_HEIGHT


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://www.inven.co.kr/board/maple/2294/1", True),
        ("http://example.com/x", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//evil.example/x", False),
        ("", False),
    ],
)
def test_only_http_links_become_anchors(url: str, linked: bool) -> None:
    assert safe_link(url) is linked


def test_changes_and_file_names() -> None:
    assert count_change(12, 8) == "+4 (+50.0%)"
    assert count_change(3, 0) == "new"
    assert pp_change(0.25, 0.5) == "-25.0%p"
    assert pp_change(None, 0.5) == "–"
    assert pp_change(0.3333, 0.33334) == "±0.0%p"
    assert signed(-0.001) == "±0.00" and signed(-0.25) == "-0.25"
    assert report_file_name("전사") == "전사.html"
    assert report_file_name("../a/b") == "_a_b.html"
