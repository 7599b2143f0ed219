"""Monthly reports from a tiny marts export: numbers, escaping, month filter, refresh."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from sentiment_assets.cli.main import main as cli_main
from sentiment_assets.lib.reports.marts import MartsExportError
from sentiment_assets.lib.reports.months import Month, MonthFormatError
from sentiment_assets.lib.reports.writer import generate_reports
from sentiment_assets_tests.reports.marts_file import Post, write_marts

POSTS = [
    # 전사 in February: one negative, one positive.
    Post(1, "전사", "히어로", date(2025, 2, 10), "부정", keywords=("보스",)),
    Post(2, "전사", "히어로", date(2025, 2, 11), "긍정"),
    # 전사 in March: two negative, one neutral, one positive over two jobs and three weeks.
    Post(
        3, "전사", "히어로", date(2025, 3, 3), "부정", 0.9, "보스 너무 어려움", keywords=("보스",)
    ),
    Post(4, "전사", "히어로", date(2025, 3, 4), "부정", 0.7, keywords=("보스", "패치")),
    Post(5, "전사", "히어로", date(2025, 3, 12), "긍정", 0.6, "패치 최고", keywords=("보스",)),
    Post(6, "전사", "팔라딘", date(2025, 3, 20), "중립", 0.8, keywords=("사냥터",)),
    # 궁수 only in March.
    Post(7, "궁수", "보우마스터", date(2025, 3, 5), "긍정", 0.95, keywords=("이펙트",)),
]


def _metric(html: str, name: str, scope: str = "") -> str:
    match = re.search(rf'{scope}.*?data-metric="{re.escape(name)}">([^<]*)<', html, re.S)
    assert match, f"metric {name} not found"
    return match.group(1).strip()


@pytest.fixture
def marts(tmp_path: Path) -> Path:
    return write_marts(tmp_path / "marts.duckdb", POSTS)


def test_report_states_the_months_numbers_and_the_change(marts: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    run = generate_reports(marts, out)
    assert run.months == ["2025-02", "2025-03"]
    assert run.job_groups == ["전사", "궁수"]
    # 궁수 had nothing in February and nothing before: no February report for it.
    assert sorted(p.relative_to(out).as_posix() for p in run.written) == [
        "2025-02/전사.html",
        "2025-03/궁수.html",
        "2025-03/전사.html",
    ]
    html = (out / "2025-03" / "전사.html").read_text(encoding="utf-8")
    assert _metric(html, "posts") == "4"
    assert _metric(html, "posts_change") == "+2 (+100.0%)"
    assert _metric(html, "share_부정") == "50.0%"
    assert _metric(html, "share_중립") == "25.0%"
    assert _metric(html, "share_change_중립") == "+25.0%p"
    assert _metric(html, "share_change_긍정") == "-25.0%p"
    assert _metric(html, "net") == "-0.25"
    assert _metric(html, "net_change") == "-0.25"
    assert _metric(html, "confidence") == "75.0%"
    # Per job: 히어로 3 posts (2 negative), 팔라딘 1 neutral, busiest first.
    jobs = re.findall(r'<tr data-job="([^"]+)">', html)
    assert jobs == ["히어로", "팔라딘"]
    assert _metric(html, "posts", 'data-job="히어로"') == "3"
    assert _metric(html, "net", 'data-job="히어로"') == "-0.33"
    # The cloud draws March's keywords of 전사 only, 보스 (3 posts) largest.
    cloud = re.findall(r'font-size="([\d.]+)"[^>]*data-keyword="([^"]+)"', html)
    sizes = {word: float(size) for size, word in cloud}
    assert set(sizes) == {"보스", "패치", "사냥터"}
    assert sizes["보스"] > sizes["패치"] == sizes["사냥터"]
    # Trends: the weeks of 2025-03-03, -10 and -17 plus February's week, as three lines.
    assert html.count("<polyline") == 3
    assert "2025-02-10" in html and "2025-03-17" in html
    # Representative posts link to the post; February's are folded under "other months".
    posts = html.index('data-table="posts"')
    other = html.index('data-table="other-posts"')
    assert posts < html.index('href="https://www.inven.co.kr/board/maple/100/3"') < other
    assert html.index('href="https://www.inven.co.kr/board/maple/100/1"') > other
    # Self-contained: nothing to fetch, no script.
    assert "<script" not in html and "src=" not in html and "url(" not in html
    assert "default-src 'none'" in html

    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2025-03/%EC%A0%84%EC%82%AC.html"' in index  # 전사, percent-encoded
    assert index.index('data-month="2025-03"') < index.index('data-month="2025-02"')


def test_untrusted_post_text_is_escaped_and_unsafe_links_are_not_links(tmp_path: Path) -> None:
    hostile = [
        Post(
            1,
            "해적",
            "캡틴",
            date(2025, 3, 3),
            "부정",
            title="<script>alert('x')</script> 보상 \"실망\"",
            url="javascript:alert(1)",
            keywords=("<img src=x onerror=alert(1)>",),
        ),
        Post(2, "해적", "<b>캡틴</b>", date(2025, 3, 4), "긍정", url="https://ok.example/2"),
    ]
    marts = write_marts(tmp_path / "marts.duckdb", hostile)
    run = generate_reports(marts, tmp_path / "out")
    html = run.written[0].read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 보상 &#34;실망&#34;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # in the cloud and the keyword table
    assert "&lt;b&gt;캡틴&lt;/b&gt;" in html
    assert "javascript:" not in html  # the unsafe URL is dropped, its title kept as text
    assert 'href="https://ok.example/2"' in html


def test_month_filter_writes_one_month_and_the_index_links_what_exists(
    marts: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    run = generate_reports(marts, out, month=Month.parse("2025-02"))
    assert run.months == ["2025-02"]
    assert [p.relative_to(out).as_posix() for p in run.written] == ["2025-02/전사.html"]
    assert not (out / "2025-03").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    # Both months are listed with their numbers; only the written one links.
    assert 'data-month="2025-03"' in index
    assert 'href="2025-02/' in index and 'href="2025-03/' not in index


def test_empty_month_says_so_and_writes_nothing(
    marts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    run = generate_reports(marts, out, month=Month.parse("2024-12"))
    assert run.written == [] and run.index is None
    assert run.message is not None
    assert "No posts in 2024-12" in run.message and "2025-02, 2025-03" in run.message
    assert not out.exists()

    code = cli_main(["report", "--month", "2024-12", "--marts", str(marts), "--output", str(out)])
    assert code == 1
    assert "No posts in 2024-12" in capsys.readouterr().err


def test_export_without_posts_writes_an_index_that_says_so(tmp_path: Path) -> None:
    marts = write_marts(tmp_path / "marts.duckdb", [])
    run = generate_reports(marts, tmp_path / "out")
    assert run.written == [] and run.index is not None
    assert 'data-empty="export"' in run.index.read_text(encoding="utf-8")


def test_refresh_after_a_label_change_replaces_each_file_atomically(
    marts: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    generate_reports(marts, out)
    report = out / "2025-03" / "전사.html"
    before = report.read_text(encoding="utf-8")
    assert _metric(before, "share_부정") == "50.0%"
    # A reviewer corrects post 4 from 부정 to 긍정; the marts are rebuilt and re-exported.
    relabelled = [
        Post(p.post_id, p.job_group, p.job, p.day, "긍정", p.confidence, p.title, p.url, p.keywords)
        if p.post_id == 4
        else p
        for p in POSTS
    ]
    with report.open(encoding="utf-8") as old_reader:
        write_marts(marts, relabelled, snapshot_id=2)
        generate_reports(marts, out)
        # A reader that opened the old report keeps a whole old file: it was replaced, not
        # rewritten in place.
        assert old_reader.read() == before
    after = report.read_text(encoding="utf-8")
    assert _metric(after, "share_부정") == "25.0%"
    assert _metric(after, "share_긍정") == "50.0%"
    assert _metric(after, "net") == "+0.25"
    assert "lakehouse snapshot 2" in after
    assert not [p.name for p in out.rglob("*") if p.name.startswith(".")]


def test_missing_export_and_bad_month_fail_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(MartsExportError, match="materialize marts_export"):
        generate_reports(tmp_path / "absent.duckdb", tmp_path / "out")
    with pytest.raises(MonthFormatError, match="YYYY-MM"):
        Month.parse("2025-13")
    code = cli_main(["report", "--marts", str(tmp_path / "absent.duckdb")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_writes_the_same_reports(marts: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    code = cli_main(["report", "--marts", str(marts), "--output", str(out), "--month", "2025-03"])
    assert code == 0
    assert sorted(p.name for p in (out / "2025-03").iterdir()) == ["궁수.html", "전사.html"]
