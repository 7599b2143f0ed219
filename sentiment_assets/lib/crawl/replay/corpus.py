"""A deterministic stream of clearly synthetic MapleStory-style posts for the replay site.

Post `i` of a corpus is always the same post (seeded per index), so tests can predict exactly
what a crawl must find. Posts before the site's start time exist from the beginning; later ones
appear as the site's clock passes their time, which lets schedules and sensors see new posts.
Every board numbers its posts from the same base, so (board_id, post_id) — not post_id alone —
identifies a post, exactly as on Inven.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sentiment_assets.lib.crawl.boards import BOARDS, JOB_GROUPS
from sentiment_assets.lib.crawl.replay.phrases import (
    CLOSINGS,
    COMMENTS,
    FREE_CATEGORIES,
    JOB_BOARD_EXTRA_CATEGORIES,
    NICK_HEADS,
    NICK_TAILS,
    SENTENCES,
    TITLES,
)

REPLAY_BOARDS = (2294, 2295, 2296, 2297, 2298, 5974)
BOARD_WEIGHTS = (14, 14, 14, 14, 14, 30)
TONES = ("부정", "중립", "긍정")
TONE_WEIGHTS = (35, 35, 30)
FIRST_POST_ID = 10001


@dataclass(frozen=True)
class SyntheticComment:
    """A comment on a synthetic post."""

    comment_id: int
    parent_id: int
    author: str
    posted_at: datetime
    text: str
    recommends: int


@dataclass(frozen=True)
class SyntheticPost:
    """One synthetic post; `tone` is the ground truth the text was written with."""

    index: int
    board_id: int
    post_id: int
    category: str
    title: str
    paragraphs: tuple[str, ...]
    author: str
    posted_at: datetime
    """Korean wall-clock time, as Inven shows it."""
    views: int
    recommends: int
    tone: str
    comments: tuple[SyntheticComment, ...]


def _with_particle(job: str) -> str:
    """`{job}으로` with the right particle: 으로 after a final consonant other than ㄹ, else 로."""
    last = job.rstrip(")")[-1:] if job else ""
    if "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28
        return job + ("으로" if final not in (0, 8) else "로")
    return job + "로"


def _fill(template: str, job: str) -> str:
    return template.replace("{job}으로", _with_particle(job)).replace("{job}", job)


class SyntheticCorpus:
    """Posts 0, 1, 2, ... generated on demand and cached, on a fixed timeline."""

    def __init__(
        self,
        *,
        start: datetime,
        seed: int = 7,
        initial_posts: int = 360,
        spacing_s: float = 420.0,
        new_post_every_s: float = 20.0,
        max_posts: int | None = None,
    ):
        """Configure the stream.

        Args:
            start: site time (naive KST) at which `initial_posts` exist.
            seed: changes every post.
            initial_posts: posts that exist at `start`, `spacing_s` apart before it.
            spacing_s: seconds between consecutive initial posts.
            new_post_every_s: after `start`, one more post every this many seconds.
            max_posts: stop growing here (a long-lived site would otherwise grow forever).
        """
        if initial_posts < 0 or spacing_s <= 0 or new_post_every_s <= 0:
            raise ValueError("initial_posts must be >= 0 and both intervals > 0")
        self.start = start
        self.seed = seed
        self.initial_posts = initial_posts
        self.spacing_s = spacing_s
        self.new_post_every_s = new_post_every_s
        self.max_posts = max_posts
        self._posts: list[SyntheticPost] = []
        self._next_id: dict[int, int] = {}
        self._by_key: dict[tuple[int, int], SyntheticPost] = {}
        self._by_board: dict[int, list[SyntheticPost]] = {}
        self._lock = threading.Lock()

    def posted_at(self, index: int) -> datetime:
        """When post `index` appears on the site."""
        if index < self.initial_posts:
            return self.start - timedelta(seconds=self.spacing_s * (self.initial_posts - index))
        after = index - self.initial_posts + 1
        return self.start + timedelta(seconds=self.new_post_every_s * after)

    def count_at(self, now: datetime) -> int:
        """How many posts exist at site time `now`."""
        count = self.initial_posts
        if now > self.start:
            count += int((now - self.start).total_seconds() // self.new_post_every_s)
        return count if self.max_posts is None else min(count, self.max_posts)

    def post(self, index: int) -> SyntheticPost:
        """Post number `index` (generated in order, so ids stay sequential per board)."""
        with self._lock:
            while len(self._posts) <= index:
                post = self._generate(len(self._posts))
                self._posts.append(post)
                self._by_key[(post.board_id, post.post_id)] = post
                self._by_board.setdefault(post.board_id, []).append(post)
            return self._posts[index]

    def board_posts_at(self, board_id: int, now: datetime) -> list[SyntheticPost]:
        """One board's posts that exist at site time `now`, oldest first."""
        count = self.count_at(now)
        if count:
            self.post(count - 1)
        with self._lock:
            posts = self._by_board.get(board_id, [])
            return [p for p in posts if p.index < count]

    def lookup(self, board_id: int, post_id: int, now: datetime) -> SyntheticPost | None:
        """The post with this id if it exists at site time `now`."""
        count = self.count_at(now)
        if count:
            self.post(count - 1)
        post = self._by_key.get((board_id, post_id))
        return post if post is not None and post.index < count else None

    def posts_at(self, now: datetime) -> list[SyntheticPost]:
        """Every post that exists at site time `now`, oldest first."""
        count = self.count_at(now)
        return [self.post(i) for i in range(count)]

    def _generate(self, index: int) -> SyntheticPost:
        rng = random.Random(self.seed * 1_000_003 + index)
        posted_at = self.posted_at(index)
        board_id = rng.choices(REPLAY_BOARDS, BOARD_WEIGHTS)[0]
        post_id = self._next_id.get(board_id, FIRST_POST_ID)
        self._next_id[board_id] = post_id + 1
        group = BOARDS[board_id].job_group
        all_jobs = [job for jobs in JOB_GROUPS.values() for job in jobs]
        if group is None:
            category = rng.choice(FREE_CATEGORIES)
            job = rng.choice(all_jobs)
        elif rng.random() < 0.12:
            category = rng.choice(JOB_BOARD_EXTRA_CATEGORIES)
            job = rng.choice(JOB_GROUPS[group])
        else:
            job = rng.choice(JOB_GROUPS[group])
            category = job
        tone = rng.choices(TONES, TONE_WEIGHTS)[0]
        sentences = rng.sample(SENTENCES[tone], k=rng.randint(1, 3))
        closing = rng.choice(CLOSINGS)
        paragraphs = tuple(_fill(s, job) for s in sentences) + ((closing,) if closing else ())
        popular = tone != "중립" and rng.random() < 0.35
        recommends = rng.randint(10, 60) if popular else rng.randint(0, 9)
        comments = []
        for n in range(1, rng.randint(0, 4) + 1):
            cid = index * 10 + n
            reply = n > 1 and rng.random() < 0.3
            comments.append(
                SyntheticComment(
                    comment_id=cid,
                    parent_id=index * 10 + rng.randint(1, n - 1) if reply else cid,
                    author=self._nick(rng),
                    posted_at=posted_at + timedelta(minutes=5 * n),
                    text=rng.choice(COMMENTS[tone]),
                    recommends=rng.randint(0, 5),
                )
            )
        return SyntheticPost(
            index=index,
            board_id=board_id,
            post_id=post_id,
            category=category,
            title=_fill(rng.choice(TITLES[tone]), job),
            paragraphs=paragraphs,
            author=self._nick(rng),
            posted_at=posted_at,
            views=rng.randint(20, 3000) + recommends * 40,
            recommends=recommends,
            tone=tone,
            comments=tuple(comments),
        )

    @staticmethod
    def _nick(rng: random.Random) -> str:
        return f"{rng.choice(NICK_HEADS)}{rng.choice(NICK_TAILS)}{rng.randint(1, 999)}"


class SiteClock:
    """The replay site's Korean wall clock: `start` plus (scaled) real time elapsed.

    Tests pass `now` to move time by hand; `speed` fast-forwards a demo site.
    """

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 1.0,
        monotonic: Callable[[], float] | None = None,
    ):
        """Start the clock at `start` (naive KST)."""
        import time

        self.start = start
        self.speed = speed
        self._monotonic = monotonic or time.monotonic
        self._origin = self._monotonic()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Current site time."""
        elapsed = (self._monotonic() - self._origin) * self.speed
        return self.start + timedelta(seconds=elapsed) + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward, e.g. to make the next post appear in a test."""
        self._offset += timedelta(seconds=seconds)
