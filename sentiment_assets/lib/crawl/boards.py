"""Which boards we crawl, which job group each belongs to, and which job an article category names.

Each job group has one Inven board; single jobs are told apart only by the article's category
(`div.articleCategory`, e.g. 비숍). Categories drift (renames, nicknames, non-job tags such as
공통 or 질문), so an unknown category maps to no job but is always kept on the post.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

JOB_GROUPS: dict[str, tuple[str, ...]] = {
    "전사": (
        "히어로",
        "팔라딘",
        "다크나이트",
        "소울마스터",
        "미하일",
        "아란",
        "블래스터",
        "데몬슬레이어",
        "데몬어벤져",
        "카이저",
        "아델",
        "제로",
        "렌",
    ),
    "마법사": (
        "아크메이지(불,독)",
        "아크메이지(썬,콜)",
        "비숍",
        "플레임위자드",
        "배틀메이지",
        "에반",
        "루미너스",
        "일리움",
        "라라",
        "키네시스",
    ),
    "궁수": (
        "보우마스터",
        "신궁",
        "패스파인더",
        "윈드브레이커",
        "와일드헌터",
        "메르세데스",
        "카인",
    ),
    "도적": (
        "나이트로드",
        "섀도어",
        "듀얼블레이드",
        "나이트워커",
        "팬텀",
        "카데나",
        "칼리",
        "호영",
        "제논",
    ),
    "해적": (
        "바이퍼",
        "캡틴",
        "캐논슈터",
        "스트라이커",
        "메카닉",
        "엔젤릭버스터",
        "은월",
        "아크",
        "제논",
    ),
}
"""Today's jobs per job group. 제논 is a thief-pirate hybrid and is listed under both."""

JOB_ALIASES: dict[str, str] = {
    "불독": "아크메이지(불,독)",
    "썬콜": "아크메이지(썬,콜)",
    "아크메이지불독": "아크메이지(불,독)",
    "아크메이지썬콜": "아크메이지(썬,콜)",
    "플위": "플레임위자드",
    "배메": "배틀메이지",
    "루미": "루미너스",
    "키네": "키네시스",
    "닼나": "다크나이트",
    "다크": "다크나이트",
    "소마": "소울마스터",
    "데슬": "데몬슬레이어",
    "데벤": "데몬어벤져",
    "보마": "보우마스터",
    "패파": "패스파인더",
    "윈브": "윈드브레이커",
    "와헌": "와일드헌터",
    "메르": "메르세데스",
    "나로": "나이트로드",
    "듀블": "듀얼블레이드",
    "듀얼블레이더": "듀얼블레이드",
    "나워": "나이트워커",
    "괴도팬텀": "팬텀",
    "캐슈": "캐논슈터",
    "캐논마스터": "캐논슈터",
    "스커": "스트라이커",
    "엔버": "엔젤릭버스터",
}
"""Nicknames and older names seen in categories and titles -> the job's name in `JOB_GROUPS`."""


@dataclass(frozen=True)
class Board:
    """One Inven MapleStory board."""

    board_id: int
    name: str
    job_group: str | None


BOARDS: dict[int, Board] = {
    2294: Board(2294, "전사 직업게시판", "전사"),
    2295: Board(2295, "마법사 직업게시판", "마법사"),
    2296: Board(2296, "궁수 직업게시판", "궁수"),
    2297: Board(2297, "도적 직업게시판", "도적"),
    2298: Board(2298, "해적 직업게시판", "해적"),
    5974: Board(5974, "자유게시판", None),
    2300: Board(2300, "질문과 답변", None),
    2304: Board(2304, "팁과 노하우", None),
}

VIEWS = ("chu", "chuchu")
"""List filters of a board: `my=chu` (10+ recommendations) and `my=chuchu` (30+)."""

DEFAULT_BOARDS = "2294,2295,2296,2297,2298,5974,5974:chu,5974:chuchu"
"""The five job-group boards and the free board with its two recommended views."""


@dataclass(frozen=True)
class BoardSpec:
    """A board to crawl, optionally through one of its recommended views."""

    board: Board
    view: str | None = None

    @property
    def key(self) -> str:
        """Stable name of this crawl target, e.g. `5974:chu`; the cursor is kept per key."""
        return f"{self.board.board_id}:{self.view}" if self.view else str(self.board.board_id)


def parse_board_specs(text: str | Sequence[str]) -> list[BoardSpec]:
    """Parse `2294,5974,5974:chu` (or a list of such items) into board specs.

    Raises:
        ValueError: an unknown board id or view, naming the known ones, so a typo cannot
            silently crawl nothing.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    specs: list[BoardSpec] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        board_part, _, view = item.partition(":")
        if not board_part.isdigit() or int(board_part) not in BOARDS:
            known = ", ".join(str(b) for b in BOARDS)
            raise ValueError(f"unknown board {item!r}; known boards: {known}")
        if view and view not in VIEWS:
            raise ValueError(f"unknown view {view!r} in {item!r}; views: {', '.join(VIEWS)}")
        spec = BoardSpec(BOARDS[int(board_part)], view or None)
        if spec not in specs:
            specs.append(spec)
    if not specs:
        raise ValueError("no boards given")
    return specs


_NOT_NAME = re.compile(r"[^0-9A-Za-z가-힣]")


def _key(text: str) -> str:
    return _NOT_NAME.sub("", text)


_JOB_BY_KEY: dict[str, str] = {
    **{_key(job): job for jobs in JOB_GROUPS.values() for job in jobs},
    **{_key(alias): job for alias, job in JOB_ALIASES.items()},
}


def clean_category(raw: str | None) -> str | None:
    """The category as shown, without the brackets and padding Inven puts around it."""
    if raw is None:
        return None
    text = raw.strip().strip("[]【】").strip()
    return text or None


def job_for(category: str | None) -> str | None:
    """The job a category names (`[비숍]` -> 비숍, `불독` -> 아크메이지(불,독)); None if unknown."""
    cleaned = clean_category(category)
    if cleaned is None:
        return None
    return _JOB_BY_KEY.get(_key(cleaned))


def job_group_of(job: str) -> tuple[str, ...]:
    """The job groups a job belongs to (two for 제논)."""
    return tuple(group for group, jobs in JOB_GROUPS.items() if job in jobs)
