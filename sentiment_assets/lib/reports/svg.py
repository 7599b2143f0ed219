"""Inline SVG for the reports: a keyword cloud and weekly sentiment lines.

Drawn here rather than with a plotting or word-cloud package so a report is one self-contained
HTML file: no scripts, no fonts or images to fetch, text that stays selectable and searchable.
Every string from the data (keywords, labels) is escaped; the SVG is returned as `Markup` so
the template inserts it without escaping it a second time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

from sentiment_assets.lib.reports.marts import Keyword, WeekPoint

LABEL_COLOURS = {"부정": "#c0392b", "중립": "#7f8c8d", "긍정": "#1e8449"}
"""Line and word colours per label, readable on white and told apart without hue by position."""

CLOUD_WIDTH = 720
CLOUD_HEIGHT = 340
MIN_FONT_PX = 13.0
MAX_FONT_PX = 54.0


@dataclass(frozen=True)
class PlacedWord:
    """A keyword laid out in the cloud: centre, font size and box."""

    keyword: Keyword
    x: float
    y: float
    font_px: float
    width: float
    height: float

    def overlaps(self, other: PlacedWord, pad: float = 2.0) -> bool:
        """Whether the two boxes (plus `pad` pixels) intersect."""
        return (
            abs(self.x - other.x) * 2 < self.width + other.width + 2 * pad
            and abs(self.y - other.y) * 2 < self.height + other.height + 2 * pad
        )


def text_width(text: str, font_px: float) -> float:
    """Estimated rendered width: Hangul and CJK glyphs are about one em, Latin about 0.6 em.

    No font is measured (none is shipped); the estimate errs wide so words never collide.
    """
    ems = sum(1.0 if ord(char) >= 0x1100 else 0.62 for char in text)
    return ems * font_px


def tone_colour(net: float | None) -> str:
    """A keyword's colour from its net sentiment: red (negative), grey, green (positive)."""
    if net is None or abs(net) < 0.15:
        return LABEL_COLOURS["중립"]
    return LABEL_COLOURS["긍정"] if net > 0 else LABEL_COLOURS["부정"]


def _place(
    ranked: Sequence[Keyword], width: float, height: float, max_font_px: float
) -> list[PlacedWord]:
    top, bottom = math.sqrt(ranked[0].posts), math.sqrt(ranked[-1].posts)
    placed: list[PlacedWord] = []
    for keyword in ranked:
        scale = (math.sqrt(keyword.posts) - bottom) / (top - bottom) if top > bottom else 1.0
        font_px = MIN_FONT_PX + scale * (max_font_px - MIN_FONT_PX)
        box_w, box_h = text_width(keyword.keyword, font_px), font_px * 1.15
        for step in range(1_500):
            # Wider than tall, like the canvas; 0.35 rad per step keeps neighbours close.
            radius = 1.2 * step
            angle = 0.35 * step
            candidate = PlacedWord(
                keyword,
                width / 2 + radius * math.cos(angle) * (width / height),
                height / 2 + radius * math.sin(angle),
                font_px,
                box_w,
                box_h,
            )
            inside = (
                candidate.x - box_w / 2 >= 0
                and candidate.x + box_w / 2 <= width
                and candidate.y - box_h / 2 >= 0
                and candidate.y + box_h / 2 <= height
            )
            if inside and not any(candidate.overlaps(other) for other in placed):
                placed.append(candidate)
                break
    return placed


def layout_cloud(
    keywords: Sequence[Keyword], width: float = CLOUD_WIDTH, height: float = CLOUD_HEIGHT
) -> list[PlacedWord]:
    """Place keywords on an Archimedean spiral from the centre, largest first.

    Font size grows with the square root of the posts mentioning a word, so a word twice as
    frequent covers about twice the area. When some words find no free spot, the whole cloud is
    laid out again with smaller large words (the smallest size stays readable); whatever still
    does not fit after that is left out. Deterministic: the same marts give the same SVG.
    """
    if not keywords:
        return []
    ranked = sorted(keywords, key=lambda k: (-k.posts, k.keyword))
    max_font_px = MAX_FONT_PX
    placed = _place(ranked, width, height, max_font_px)
    while len(placed) < len(ranked) and max_font_px > 2 * MIN_FONT_PX:
        max_font_px *= 0.8
        placed = _place(ranked, width, height, max_font_px)
    return placed


def keyword_cloud(keywords: Sequence[Keyword]) -> Markup:
    """The cloud as an inline `<svg>`; each word's tooltip gives the posts mentioning it."""
    words = layout_cloud(keywords)
    # The view box hugs the placed words, so a month with few keywords is not mostly blank.
    left, top, right, bottom = 0.0, 0.0, float(CLOUD_WIDTH), float(CLOUD_HEIGHT)
    if words:
        left = max(min(w.x - w.width / 2 for w in words) - 8, 0)
        top = max(min(w.y - w.height / 2 for w in words) - 8, 0)
        right = min(max(w.x + w.width / 2 for w in words) + 8, CLOUD_WIDTH)
        bottom = min(max(w.y + w.height / 2 for w in words) + 8, CLOUD_HEIGHT)
    parts = [
        f'<svg class="cloud" viewBox="{left:.0f} {top:.0f} {right - left:.0f} {bottom - top:.0f}" '
        'role="img" aria-label="keyword cloud" xmlns="http://www.w3.org/2000/svg" '
        f'style="max-width: {right - left:.0f}px">'
    ]
    for word in words:
        net = "n/a" if word.keyword.net is None else f"{word.keyword.net:+.2f}"
        parts.append(
            f'<text x="{word.x:.1f}" y="{word.y:.1f}" font-size="{word.font_px:.1f}" '
            f'fill="{tone_colour(word.keyword.net)}" text-anchor="middle" '
            f'dominant-baseline="central" data-keyword="{escape(word.keyword.keyword)}">'
            f"<title>{escape(word.keyword.keyword)}: {word.keyword.posts} posts, "
            f"net sentiment {net}</title>{escape(word.keyword.keyword)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


TREND_WIDTH = 720
TREND_HEIGHT = 260
_MARGIN = {"left": 48, "right": 16, "top": 16, "bottom": 40}


def sentiment_lines(
    weeks: Sequence[WeekPoint], *, month_start: date | None = None, month_end: date | None = None
) -> Markup:
    """Weekly share of each label as three lines, the report's month shaded.

    Args:
        weeks: the job group's weeks, oldest first.
        month_start: first day of the report's month; weeks overlapping the month are shaded.
        month_end: first day after the month.
    """
    plot_w = TREND_WIDTH - _MARGIN["left"] - _MARGIN["right"]
    plot_h = TREND_HEIGHT - _MARGIN["top"] - _MARGIN["bottom"]
    parts = [
        f'<svg class="trend" viewBox="0 0 {TREND_WIDTH} {TREND_HEIGHT}" role="img" '
        f'aria-label="weekly sentiment shares" xmlns="http://www.w3.org/2000/svg">'
    ]
    points = [week for week in weeks if week.counts.posts]
    step = plot_w / max(len(points) - 1, 1)

    def x_of(index: int) -> float:
        return _MARGIN["left"] + (index * step if len(points) > 1 else plot_w / 2)

    def y_of(share: float) -> float:
        return _MARGIN["top"] + (1 - share) * plot_h

    for index, week in enumerate(points):
        # A week is shaded when any of its seven days is in the month.
        if (
            month_start is not None
            and month_end is not None
            and week.week_start + timedelta(days=6) >= month_start
            and week.week_start < month_end
        ):
            half = step / 2 if len(points) > 1 else plot_w / 2
            parts.append(
                f'<rect class="month" x="{x_of(index) - half:.1f}" y="{_MARGIN["top"]}" '
                f'width="{2 * half:.1f}" height="{plot_h}" fill="#f2f4f8"/>'
            )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_MARGIN["left"]}" x2="{TREND_WIDTH - _MARGIN["right"]}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="#dde1e6" stroke-width="1"/>'
            f'<text x="{_MARGIN["left"] - 6}" y="{y:.1f}" font-size="11" text-anchor="end" '
            f'dominant-baseline="central" fill="#555">{tick:.0%}</text>'
        )
    for index, week in enumerate(points):
        parts.append(
            f'<text x="{x_of(index):.1f}" y="{TREND_HEIGHT - _MARGIN["bottom"] + 16}" '
            f'font-size="11" text-anchor="middle" fill="#555">'
            f"{week.week_start:%m-%d}</text>"
        )
    for label, colour in LABEL_COLOURS.items():
        coords = [
            (x_of(index), y_of(week.counts.share(label) or 0.0))
            for index, week in enumerate(points)
        ]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
                f'data-label="{escape(label)}"/>'
            )
        for (x, y), week in zip(coords, points, strict=True):
            share = week.counts.share(label) or 0.0
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{week.week_start:%Y-%m-%d} {escape(label)}: {share:.1%} of "
                f"{week.counts.posts} posts</title></circle>"
            )
    legend_x = _MARGIN["left"]
    for label, colour in LABEL_COLOURS.items():
        parts.append(
            f'<rect x="{legend_x}" y="{TREND_HEIGHT - 14}" width="12" height="4" '
            f'fill="{colour}"/><text x="{legend_x + 16}" y="{TREND_HEIGHT - 12}" '
            f'font-size="11" dominant-baseline="central" fill="#333">{escape(label)}</text>'
        )
        legend_x += 64
    parts.append("</svg>")
    return Markup("".join(parts))
