"""Posts nobody would write by accident travel crawl -> labeling -> prediction, nothing lost.

Terminal escapes and other control characters, zero-width characters hidden inside a word,
bidi overrides, five scripts and emoji in one post, and a post of 10,000 characters: each is
stored, chunked, labeled by an LLM (the fake server, over HTTP) and predicted by the ensemble.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

from sentiment_assets.defs.labeling.assets import labeled_chunks, raw_chunks
from sentiment_assets.defs.labeling.resources import LlmResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.labeling.fake_llm import FakeLlmServer
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.text.normalize import post_text
from sentiment_assets_tests.crawl.conftest import Faults, crawl_lake
from sentiment_assets_tests.feedback.helpers import train_ensemble

# A hidden joiner inside 너프 (the fake model's negative keyword), a terminal escape, a NUL.
CONTROLS = "보스 보상 너\u200c프 \x1b[31m진짜\x1b[0m\x00 별로\x07 \u200b임"
MIXED = "RTL \u202e역방향\u202c 오버라이드, nerf сила 強い مرحبا 😡 👨\u200d👩\u200d👧 가족"
LONG = ("보스 보상이 너무 짜게 나와서 아쉽네요. " * 500)[:10_000]
VISIBLE = ("nerf", "сила", "強い", "مرحبا", "😡", "역방향", "가족")


def _hostile_site(site: SyntheticSite, faults: Faults) -> dict[int, str]:
    """Serve three posts of the site with these bodies; returns post id -> body."""
    posts = site.visible(2294)
    bodies = {posts[0].post_id: CONTROLS, posts[1].post_id: MIXED, posts[2].post_id: LONG}

    def rule(request: ReplayRequest) -> ReplayResponse | None:
        found = re.match(r"^/board/maple/2294/(\d+)$", request.path)
        if not found or int(found.group(1)) not in bodies:
            return None
        post_id = int(found.group(1))
        page = site.article(2294, post_id)
        assert page is not None
        html = re.sub(
            r'(<div id="powerbbsContent">).*?(</div></div>)',
            lambda m: m.group(1) + f"<div>{bodies[post_id]}</div>" + m.group(2),
            page.body.decode("utf-8"),
            flags=re.S,
        )
        return ReplayResponse(200, html.encode("utf-8"))

    faults.add(rule)
    return bodies


def test_hostile_posts_are_stored_labeled_and_predicted(
    server: ReplayServer,
    site: SyntheticSite,
    faults: Faults,
    lakehouse: Lakehouse,
    warehouse: Path,
    tmp_path: Path,
) -> None:
    bodies = _hostile_site(site, faults)
    report = crawl_lake(server, lakehouse, "2294")
    assert report.errors == 0 and report.boards[0].failed_posts == 0
    with lakehouse.session() as session:
        stored = dict(
            session.con.execute(
                "select post_id, body from lake.raw_posts where post_id in (select unnest(?))",
                [list(bodies)],
            ).fetchall()
        )
    controls, mixed, long = (stored[p] for p in bodies)
    # Nothing visible is lost; what renders as nothing (or reorders the page) is not stored.
    assert not re.search(r"[\x00-\x08\x0e-\x1f\x7f\u200b\u202a-\u202e]", controls + mixed)
    assert "[31m진짜" in controls and "별로" in controls
    assert all(part in mixed for part in VISIBLE)
    assert len(long) == 10_000 and long == LONG.strip()

    with FakeLlmServer("openai") as llm_server:
        result = dg.materialize(
            [raw_chunks, labeled_chunks],
            resources={
                "lakehouse": LakehouseResource(path=str(lakehouse.root)),
                "llm": LlmResource(
                    provider="openai",
                    base_url=llm_server.base_url,
                    model="gemma-3-12b",
                    base_delay_s=0.01,
                    track_usage=False,
                ),
            },
        )
        assert result.success
        asked = {p["text"] for seen in llm_server.model.seen for p in seen.posts}
    with lakehouse.session() as session:
        labels = dict(
            session.con.execute(
                "select post_id, label from lake.labeled_chunks "
                "where status = 'ok' and post_id in (select unnest(?))",
                [list(bodies)],
            ).fetchall()
        )
        texts = dict(
            session.con.execute(
                "select post_id, text from lake.raw_chunks where post_id in (select unnest(?))",
                [list(bodies)],
            ).fetchall()
        )
    assert set(labels) == set(bodies), "every hostile post got a label"
    # The joiner hidden in 너프 no longer hides it: the model reads the word.
    assert labels[next(iter(bodies))] == "부정"
    assert all(text in asked for text in texts.values())
    assert len(texts[list(bodies)[2]]) == 512  # the head of the long post is what is labeled

    models = tmp_path / "models"  # SENTIMENT_MODELS of the `warehouse` fixture
    version = train_ensemble(models)
    ensemble = Ensemble.load(models / "ensemble" / version, models_root=models)
    titles = {p.post_id: p.title for p in site.visible(2294)}
    prediction = ensemble.predict([post_text(titles[p], stored[p]) for p in bodies])
    assert prediction.status == ["ok", "ok", "ok"]
    assert all(label is not None for label in prediction.labels)
