"""A small labeled Korean corpus the project writes itself, for machines with no real data.

`make demo` on a fresh clone, offline, with nothing configured, still has to train every member
and show the loop working. This corpus makes that possible without shipping anyone else's
sentences: every row is assembled at run time from the hand-written phrase grammar below
(written for this project; nothing copied from NSMC, Inven or any other source), seeded, so the
same seed always gives the same rows.

It is demonstration data, not a benchmark. Its sentences are short and their cues are clear, so
accuracy measured on its own test split says nothing about real posts; `DEMO_NOTICE` says so
wherever it is used, and names the command that trains real models.
"""

from __future__ import annotations

import hashlib
import random

import pandas as pd

from sentiment_assets.lib.corpus.labels import NEGATIVE, NEUTRAL, POSITIVE
from sentiment_assets.lib.corpus.sources import standardize
from sentiment_assets.lib.models.base import LABELS

EMBEDDED_SOURCE = "embedded-demo"
DEMO_NOTICE = (
    "models trained on the embedded demo corpus are for demonstration only; for real models "
    "point the corpus at real labeled data: `SENTIMENT_CORPUS=/path/to/nsmc_reviews.parquet "
    "make demo`, or `.venv/bin/sentiment train --source nsmc` online"
)

_JOBS = ("히어로", "비숍", "나이트로드", "보우마스터", "캡틴", "아크메이지", "팔라딘")

SUBJECTS: tuple[str, ...] = (
    # game: what the community talks about
    "이번 패치",
    "신규 보스",
    "스타포스 강화",
    "큐브 확률",
    "여름 이벤트",
    "길드 컨텐츠",
    "헥사 강화",
    "사냥터 개편",
    "{job} 리마스터",
    "{job} 스킬 이펙트",
    "{job} 딜 사이클",
    "신규 코디 아이템",
    "주간 퀘스트",
    "파티 퀘스트",
    "서버 상태",
    "운영진 공지",
    "시즌 패스 보상",
    "메소 시세",
    # everyday: so the members learn tone, not only game words
    "오늘 점심 메뉴",
    "새로 산 키보드",
    "퇴근길 지하철",
    "동네 카페 커피",
    "주말에 본 영화",
    "어제 시킨 배달 음식",
    "새 이어폰",
    "이번 택배 배송",
    "회사 회의",
    "동생이 추천한 책",
)

PREDICATES: dict[int, tuple[str, ...]] = {
    NEGATIVE: (
        "진짜 별로였어요",
        "너무 실망스럽네요",
        "완전 최악이네요",
        "돈이 아깝습니다",
        "짜증만 납니다",
        "다시는 안 할래요",
        "기대 이하였어요",
        "답답해서 못 하겠어요",
        "시간 낭비였어요",
        "화가 나네요",
        "엉망이에요",
        "불편해서 못 쓰겠네요",
        "좋다는 말은 못 하겠네요",
        "재밌을 줄 알았는데 아니었어요",
        "이건 좀 아닌 것 같아요",
        "손이 안 가네요",
    ),
    NEUTRAL: (
        "언제 바뀌는지 아시는 분 있나요",
        "관련해서 질문 있습니다",
        "일정 정리해 봤습니다",
        "내일 공지가 나온다고 합니다",
        "어디서 확인하나요",
        "변경 사항 공유드립니다",
        "가격이 얼마인지 궁금하네요",
        "시간표 올려 둡니다",
        "설정 방법 문의드려요",
        "후기 찾아보는 중입니다",
        "자세한 내용은 공지를 참고하세요",
        "비교표 만들어 봤어요",
        "다음 주부터 적용된다고 하네요",
        "순서가 어떻게 되는지 알려 주세요",
    ),
    POSITIVE: (
        "정말 만족스러워요",
        "기대 이상이었어요",
        "최고네요",
        "너무 재밌어요",
        "강력 추천합니다",
        "덕분에 기분이 좋아졌어요",
        "완전 마음에 들어요",
        "훨씬 좋아졌네요",
        "감동했습니다",
        "잘 골랐다고 생각해요",
        "나쁘지 않네요",
        "생각보다 괜찮았어요",
        "계속 이렇게만 해 주세요",
        "오랜만에 웃었습니다",
    ),
}

OPENERS: dict[int, tuple[str, ...]] = {
    NEGATIVE: ("", "", "솔직히", "진심", "아무리 봐도", "하아", "이번에도"),
    NEUTRAL: ("", "", "혹시", "참고로", "다들", "그나저나"),
    POSITIVE: ("", "", "오랜만에", "진짜", "생각보다", "와"),
}

ENDINGS: dict[int, tuple[str, ...]] = {
    NEGATIVE: ("", ".", "...", " ㅡㅡ", " ㅠㅠ", " 하", "!"),
    NEUTRAL: ("", ".", "?", " 참고하세요", " 감사합니다"),
    POSITIVE: ("", ".", "!", " ㅋㅋ", " ^^", "!!", " ㅎㅎ"),
}

CONTRASTS: tuple[tuple[str, str, int], ...] = (
    # "A는 좋은데 B는 별로": the clause after the turn carries the tone, as Korean readers take it.
    ("그래픽은 예쁜데", "보상은 너무 짜요", NEGATIVE),
    ("스토리는 좋았는데", "버그가 너무 많아요", NEGATIVE),
    ("처음엔 별로였는데", "하다 보니 재밌네요", POSITIVE),
    ("가격은 좀 비싸지만", "그만한 값을 해요", POSITIVE),
    ("기대는 안 했는데", "의외로 괜찮네요", POSITIVE),
    ("말은 많았지만", "결국 달라진 게 없네요", NEGATIVE),
)


def _sentence(rng: random.Random, label: int) -> str:
    if rng.random() < 0.08:
        first, second, tone = rng.choice(CONTRASTS)
        if tone == label:
            return f"{rng.choice(SUBJECTS)} {first} {second}".replace("{job}", rng.choice(_JOBS))
    subject = rng.choice(SUBJECTS).replace("{job}", rng.choice(_JOBS))
    opener = rng.choice(OPENERS[label])
    text = f"{opener} {subject} {rng.choice(PREDICATES[label])}{rng.choice(ENDINGS[label])}"
    return text.strip()


def _split(text: str) -> str:
    bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 8
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def embedded_corpus(rows_per_label: int = 2000, seed: int = 13) -> pd.DataFrame:
    """About `rows_per_label` distinct sentences per class, in `sources.CORPUS_COLUMNS`.

    Splits come from a hash of the text (3/4 train, 1/8 dev, 1/8 test), so a sentence keeps its
    split whatever the row count. Labels are the tone each sentence was written in.
    """
    if rows_per_label < 1:
        raise ValueError("rows_per_label must be at least 1")
    rng = random.Random(seed)
    rows: dict[str, int] = {}
    for label in (NEGATIVE, NEUTRAL, POSITIVE):
        # The grammar holds tens of thousands of sentences per class; the cap stops a request
        # for more than it can say from looping forever.
        made, tries = 0, 0
        while made < rows_per_label and tries < rows_per_label * 50:
            tries += 1
            text = _sentence(rng, label)
            if text not in rows:
                rows[text] = label
                made += 1
    # Names, not indices: `standardize` reads integer labels 0/1 alone as NSMC's binary.
    raw = pd.DataFrame({"text": list(rows), "label": [LABELS[i] for i in rows.values()]})
    raw["split"] = raw["text"].map(_split)
    return standardize(raw, EMBEDDED_SOURCE)
