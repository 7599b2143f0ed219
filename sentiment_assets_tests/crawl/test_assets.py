"""raw_posts through Dagster: materialized into a temporary lakehouse, and the schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from sentiment_assets.defs.crawl import resources as crawl_resources
from sentiment_assets.defs.crawl.assets import crawl_schedule, raw_posts
from sentiment_assets.defs.crawl.resources import InvenCrawlerResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.crawl.boards import DEFAULT_BOARDS
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.crawl.run import REPLAY_EPOCH_FILE, CrawlOptions, crawl_into_jsonl
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets_tests.crawl.conftest import Faults, lake_rows


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_materialize_raw_posts_from_the_replay_site(lakehouse: Lakehouse) -> None:
    resources = {
        "lakehouse": LakehouseResource(path=str(lakehouse.root)),
        "inven": InvenCrawlerResource(
            replay_posts=80, boards="2294,2295,5974", replay_new_post_every_s=1e6
        ),
    }
    result = dg.materialize([raw_posts], resources=resources)
    assert result.success
    meta = _metadata(result)
    by_board = lake_rows(
        lakehouse, "select board_id, count(*) from lake.raw_posts group by 1 order by 1"
    )
    stored = sum(n for _, n in by_board)
    assert meta["new_posts"] == stored == meta["dagster/row_count"] > 0
    assert meta["new_posts_by_board"] == {str(b): n for b, n in by_board}
    assert meta["errors"] == 0 and meta["errors_by_board"] == {"2294": 0, "2295": 0, "5974": 0}
    assert meta["pages"] == meta["list_pages"] + meta["article_pages"]
    assert meta["article_pages"] == stored
    assert meta["stop_by_board"] == {
        "2294": "end_of_list",
        "2295": "end_of_list",
        "5974": "end_of_list",
    }
    assert isinstance(meta["elapsed_s"], float) and meta["elapsed_s"] > 0
    assert str(meta["source"]).startswith("replay site")
    (run,) = lake_rows(lakehouse, "select distinct crawl_run from lake.raw_posts")
    assert run[0] == result.run_id

    again = _metadata(dg.materialize([raw_posts], resources=resources))
    assert again["new_posts"] == 0 and again["dagster/row_count"] == stored


def test_replay_site_grows_with_wall_time_since_its_epoch(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    options = CrawlOptions(boards="2294,2295,2296,2297,2298,5974", replay_posts=40)
    output = tmp_path / "posts.jsonl"
    first = crawl_into_jsonl(options, output, warehouse=warehouse)
    epoch = datetime.fromisoformat((warehouse / REPLAY_EPOCH_FILE).read_text().strip())
    assert first.new_posts == 40
    # The site was first used 105 s ago: five more posts (one per 20 s) exist now.
    (warehouse / REPLAY_EPOCH_FILE).write_text((epoch - timedelta(seconds=105)).isoformat())
    second = crawl_into_jsonl(options, output, warehouse=warehouse)
    assert second.new_posts == 5


def test_direct_call_reports_page_errors_in_metadata(
    server: ReplayServer, site: SyntheticSite, faults: Faults, tmp_path: Path
) -> None:
    broken = site.visible(2294)[0].post_id

    def gone(request: ReplayRequest) -> ReplayResponse | None:
        return ReplayResponse(404) if request.path == f"/board/maple/2294/{broken}" else None

    faults.add(gone)
    lake = Lakehouse(tmp_path / "wh")
    result = raw_posts(
        dg.build_asset_context(),
        lakehouse=LakehouseResource(path=str(lake.root)),
        inven=InvenCrawlerResource(base_url=server.base_url, boards="2294", delay_s=0.0),
    )
    assert isinstance(result, dg.MaterializeResult) and result.metadata is not None
    meta = {k: getattr(v, "value", v) for k, v in result.metadata.items()}
    assert meta["errors"] == 1 and meta["errors_by_board"] == {"2294": 1}
    assert meta["new_posts"] == len(site.visible(2294)) - 1
    assert meta["source"] == server.base_url
    ((url, kind, status),) = lake_rows(
        lake, "select url, page_kind, http_status from lake.crawl_errors"
    )
    assert url.endswith(f"/{broken}") and (kind, status) == ("article", 404)


def test_crawl_schedule_runs_raw_posts_every_ten_minutes() -> None:
    assert crawl_schedule.name == "crawl_schedule"
    assert crawl_schedule.cron_schedule == "*/10 * * * *"
    definitions = dg.Definitions(
        assets=[raw_posts],
        schedules=[crawl_schedule],
        resources={"lakehouse": LakehouseResource(), "inven": InvenCrawlerResource()},
    )
    job = definitions.resolve_job_def(crawl_schedule.job_name)
    assert job.asset_layer.selected_asset_keys == {dg.AssetKey("raw_posts")}
    op = definitions.resolve_assets_def("raw_posts").op
    assert op.pool == "lakehouse"


def test_resource_binds_the_environment_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENTIMENT_CRAWL_BASE_URL", "SENTIMENT_CRAWL_BOARDS", "SENTIMENT_AUTHOR_SALT"):
        monkeypatch.delenv(name, raising=False)
    default = _bound_crawler().process_config_and_initialize().options()
    assert default.base_url is None and default.boards == DEFAULT_BOARDS
    monkeypatch.setenv("SENTIMENT_CRAWL_BASE_URL", "https://www.inven.co.kr")
    monkeypatch.setenv("SENTIMENT_CRAWL_BOARDS", "2294")
    monkeypatch.setenv("SENTIMENT_AUTHOR_SALT", "s3cret")
    bound = _bound_crawler()
    assert bound.author_salt == "SENTIMENT_AUTHOR_SALT"  # the variable's name, not its value
    options = bound.process_config_and_initialize().options()
    assert (options.base_url, options.boards, options.author_salt) == (
        "https://www.inven.co.kr",
        "2294",
        "s3cret",
    )


def _bound_crawler() -> InvenCrawlerResource:
    resource = crawl_resources.defs().resources
    assert resource is not None
    crawler = resource["inven"]
    assert isinstance(crawler, InvenCrawlerResource)
    return crawler
