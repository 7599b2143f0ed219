"""Dashboard query latency on one million synthetic posts: the marts against the raw tables.

1. Synthetic upstream tables (1,000,000 posts; 1.3 million predictions over two model versions;
   about 2.9 million post keywords; LLM labeling attempts, feedback, crawl errors) are written
   straight into a DuckLake built with `lib/lakehouse`, shaped like what the Python assets
   write. Synthetic data is for speed only: no figure here says anything about quality.
2. The real dbt models build the marts (`dbt run` against that lake, as the marts tests do) and
   `export_marts` copies them to marts.duckdb, the file the dashboards read.
3. The dashboards' queries are taken from dashboards/pages/**/*.md (each ```sql block, with
   page parameters and inputs filled in and `${query}` references inlined). As Evidence does,
   the source queries in dashboards/sources/marts/ run once against marts.duckdb and the page
   queries then run against their results. Each page query is repeated `REPEATS` times.
   Without dashboards/pages, a representative list over the marts is timed instead.
4. Baseline, same run: the same page queries against the raw tables, with each mart replaced by
   a view holding dbt's compiled SQL (so every query re-aggregates the million posts), in a
   plain DuckDB file with the same rows.

Numbers are native DuckDB; in the built site the page queries run in DuckDB-WASM in the browser
over the same (small) mart tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.common import WORK, save
from sentiment_assets.lib.crawl.boards import JOB_GROUPS
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.marts.export import export_marts
from sentiment_assets.lib.marts.manifest import DBT_PROJECT_DIR, dbt_executable
from sentiment_assets.lib.settings import PROJECT_ROOT

POSTS = int(os.environ.get("BENCH_MARTS_POSTS", "1000000"))
REPEATS = 30
BASELINE_REPEATS = 3
P95_TARGET_MS = 200.0
PAGES = PROJECT_ROOT / "dashboards" / "pages"
SOURCES = PROJECT_ROOT / "dashboards" / "sources" / "marts"
PARAMS = {"job_group": "전사", "job": "히어로", "grain": "month"}
"""Values for `${params.x}` / `${inputs.x}` / `${inputs.x.value}`; keyword is the top keyword."""

KEYWORDS = [
    "보스", "패치", "밸런스", "사냥", "보상", "이벤트", "스킬", "너프", "버프", "메소",
    "큐브", "스타포스", "아케인", "어센틱", "유니온", "링크", "헥사", "코어", "장비", "무기",
    "보조", "엠블렘", "딜량", "사냥터", "파티", "길드", "레벨업", "경험치", "서버", "렉",
    "점검", "업데이트", "쇼케이스", "코디", "캐시", "확률", "강화", "환불", "운영", "직업",
]  # fmt: skip
"""Common keywords; a Zipf-like tail of synthetic ones (kw0001...) follows them."""

REPRESENTATIVE_QUERIES = {
    "overview_shares_by_job_group": "select job_group, sum(posts) as posts, "
    "sum(negative_posts) / sum(posts) as negative_share, "
    "(sum(positive_posts) - sum(negative_posts)) / sum(posts) as net "
    "from marts.sentiment_by_job_group_week group by job_group order by posts desc",
    "job_page_weekly": "select period_start, posts, net_sentiment "
    "from marts.sentiment_by_job_week where job = '히어로' order by period_start",
    "weekly_trends": "select period_start, job_group, net_sentiment "
    "from marts.sentiment_by_job_group_week order by period_start, job_group",
    "keyword_explorer_top_n": "select keyword, sum(posts) as posts from marts.keyword_frequency "
    "where job = '히어로' and period_grain = 'month' group by keyword "
    "order by posts desc limit 20",
    "representative_posts": "select label, post_rank, title, url from marts.representative_posts "
    "where job = '히어로' order by label, post_rank",
    "model_quality": "select * from marts.model_quality order by model_version",
    "review_backlog": "select day, corrections, confirmations from marts.feedback_daily "
    "order by day",
}


def _jobs() -> list[tuple[int, str | None, str | None, int]]:
    """(job index, job group, job, board id) for every job, plus the free board."""
    rows: list[tuple[int, str | None, str | None, int]] = []
    for board, (group, jobs) in enumerate(JOB_GROUPS.items()):
        for job in jobs:
            rows.append((len(rows), group, job, 2290 + board))
    rows.append((len(rows), None, None, 5974))
    return rows


def _write_upstream(lake: Lakehouse) -> dict[str, int]:
    """Write the synthetic upstream tables with SQL inside the lake; returns rows per table."""
    jobs = _jobs()
    vocab = KEYWORDS + [f"kw{i:04d}" for i in range(1, 1961)]
    with lake.session() as session:
        con = session.con
        con.execute(
            "create temp table jobs(job_idx integer, job_group varchar, job varchar, "
            "board_id integer)"
        )
        con.executemany("insert into jobs values (?, ?, ?, ?)", jobs)
        con.execute("create temp table vocab(kw_idx integer, keyword varchar)")
        con.executemany("insert into vocab values (?, ?)", list(enumerate(vocab)))
        # Pseudo-random but reproducible: hash() of the row number, scaled to [0, 1).
        con.execute(
            f"""
            create temp table posts_base as
            select
                i as post_id,
                (hash(i) % 1000000) / 1e6 as u1,
                (hash(i * 7 + 1) % 1000000) / 1e6 as u2,
                timestamp '2024-07-01 00:00:00' + to_seconds(cast(i * 31.5 as bigint)) as posted_at
            from range({POSTS}) as r(i)
            """
        )
        con.execute(
            f"""
            create temp table posts_jobs as
            select b.*, least(cast(pow(b.u1, 1.6) * {len(jobs)} as integer), {len(jobs) - 1})
                as job_idx
            from posts_base as b
            """
        )
        con.execute(
            """
            create table lake.raw_posts as
            select
                jobs.board_id, b.post_id, 'board ' || jobs.board_id as board_name,
                jobs.job_group, jobs.job as category, jobs.job,
                '게시글 제목 ' || b.post_id as title,
                '본문 ' || b.post_id as body, 'a' || (b.post_id % 5000) as author_hash,
                b.posted_at, cast(b.u2 * 5000 as integer) as views,
                cast(b.u2 * 30 as integer) as recommends,
                'https://www.inven.co.kr/board/maple/' || jobs.board_id || '/' || b.post_id as url,
                md5(cast(b.post_id as varchar)) as content_hash,
                b.posted_at + interval 5 minute as crawled_at
            from posts_jobs as b
            join jobs using (job_idx)
            """
        )
        # v1 scored every post; v2, the newer model, re-scored the newest 30%.
        con.execute(
            f"""
            create table lake.ensemble_predictions as
            with scored as (
                select j.board_id, p.post_id, v.model_version,
                    (hash(p.post_id * 13 + v.seed) % 1000000) / 1e6 as u,
                    0.4 + ((hash(p.post_id * 17 + v.seed) % 1000) / 1000.0) * 0.59 as confidence,
                    p.posted_at, p.job_idx
                from posts_jobs as p
                join jobs as j using (job_idx)
                cross join (values ('v1', 1), ('v2', 2)) as v(model_version, seed)
                where v.model_version = 'v1' or p.post_id >= {int(POSTS * 0.7)}
            )
            select board_id, post_id, model_version,
                case when label = '부정' then confidence else (1 - confidence) / 2 end as p_neg,
                case when label = '중립' then confidence else (1 - confidence) / 2 end as p_neu,
                case when label = '긍정' then confidence else (1 - confidence) / 2 end as p_pos,
                label, confidence, ((hash(post_id) % 100) / 250.0) as disagreement,
                'ok' as status,
                case model_version when 'v1' then posted_at + interval 1 hour
                    else timestamp '2025-07-01' end as scored_at
            from (
                select *,
                    -- each job leans its own way, so job groups differ on the dashboards
                    case when u < 0.25 + (job_idx % 5) * 0.05 then '부정'
                        when u < 0.55 + (job_idx % 5) * 0.03 then '중립'
                        else '긍정' end as label
                from scored
            )
            """
        )
        # The keyword index is computed into its own table first: joined on an expression
        # over (post x draw), the planner fell back to a nested loop over the vocabulary.
        con.execute(
            f"""
            create temp table keyword_picks as
            select p.board_id, p.post_id, least(cast(
                pow((hash(p.post_id * 31 + k.n) % 1000000) / 1e6, 2.5) * {len(vocab)}
                as integer), {len(vocab) - 1}) as kw_idx
            from lake.raw_posts as p
            cross join range(3) as k(n)
            """
        )
        con.execute(
            """
            create table lake.post_keywords as
            select distinct picks.board_id, picks.post_id, vocab.keyword
            from keyword_picks as picks
            join vocab using (kw_idx)
            """
        )
        con.execute(
            """
            create table lake.labeled_chunks as
            select 'chunk-' || lpad(cast(post_id // 1000 as varchar), 5, '0') as chunk_id,
                board_id, post_id,
                case when post_id % 10 = 9 then null else label end as label,
                case when post_id % 10 in (8, 9) then null else 0.9 end as confidence,
                case when post_id % 2 = 0 then 'gemini' else 'openai_compat' end as provider,
                case when post_id % 2 = 0 then 'gemini-2.5-flash' else 'qwen3' end as model,
                'v1' as prompt_version, 120 + post_id % 80 as tokens_in, 12 as tokens_out,
                600.0 + post_id % 900 as latency_ms,
                cast(case when post_id % 2 = 0 then 0.00004 end as double) as cost_usd,
                case post_id % 10 when 8 then 'invalid' when 9 then 'failed' else 'ok' end
                    as status,
                post_id % 13 = 0 as is_weak,
                scored_at - interval 30 minute as labeled_at
            from lake.ensemble_predictions
            where model_version = 'v1' and post_id % 7 = 0
            """
        )
        con.execute(
            """
            create table lake.feedback as
            select cast(post_id as varchar) as feedback_id, board_id, post_id,
                cast(null as varchar) as text,
                label as old_label,
                case when post_id % 3 = 0 then '긍정' when post_id % 3 = 1 then '부정'
                    else label end as new_label,
                'reviewer' || (post_id % 9) as reviewer,
                scored_at + interval 2 day as created_at
            from lake.ensemble_predictions
            where model_version = 'v1' and post_id % 97 = 0
            """
        )
        con.execute(
            """
            create table lake.crawl_errors as
            select 'https://www.inven.co.kr/board/maple/' || board_id || '?p=' || post_id as url,
                board_id, case when post_id % 2 = 0 then 'list' else 'article' end as page_kind,
                'HTTP 503' as error, 503 as http_status, true as retryable,
                cast(null as varchar) as saved_path,
                posted_at as occurred_at, 'r' || (post_id // 10000) as crawl_run
            from lake.raw_posts where post_id % 500 = 0
            """
        )
        tables = (
            "raw_posts",
            "ensemble_predictions",
            "post_keywords",
            "labeled_chunks",
            "feedback",
            "crawl_errors",
        )
        counts = {}
        for table in tables:
            row = con.execute(f"select count(*) from lake.{table}").fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def _dbt_run(warehouse: Path, target: Path) -> float:
    """Build every model with the real dbt project; returns the wall time in seconds."""
    env = {**os.environ, "SENTIMENT_WAREHOUSE": str(warehouse), "DBT_LOG_PATH": str(target)}
    started = time.perf_counter()
    done = subprocess.run(
        [
            dbt_executable(),
            "run",
            "--vars",
            json.dumps({"warehouse": str(warehouse)}),
            "--target-path",
            str(target),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dbt run failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    return elapsed


def _raw_baseline(lake: Lakehouse, tables: list[str], compiled: Path, raw_path: Path) -> None:
    """Copy the raw tables into a plain DuckDB file and define every model as a view over them.

    The views hold dbt's compiled SQL, so a page query that reads `marts.x` re-aggregates the
    raw rows each time: the same answer as the mart, computed from scratch.
    """
    raw_path.unlink(missing_ok=True)
    with lake.session() as session:
        con = session.con
        con.execute(f"attach '{raw_path}' as raw")
        for table in tables:
            con.execute(f"create table raw.main.{table} as select * from lake.main.{table}")
        con.execute("detach raw")
    con = duckdb.connect()
    try:
        # Attached as `lake`, the name dbt's compiled SQL qualifies every relation with.
        con.execute(f"attach '{raw_path}' as lake")
        for layer in ("staging", "intermediate", "marts"):
            con.execute(f"create schema lake.{layer}")
            for sql_file in sorted((compiled / layer).glob("*.sql")):
                con.execute(f"create view lake.{layer}.{sql_file.stem} as {sql_file.read_text()}")
        # The one page-visible column the export adds rather than dbt.
        con.execute(
            "create view lake.marts.export_info as select cast(0 as bigint) as lake_snapshot_id, "
            "cast(now() as timestamp) as exported_at_utc, 15 as tables"
        )
    finally:
        con.close()


def _fill(sql: str, earlier: dict[str, str], values: dict[str, str], page: Path) -> str:
    """Inline `${query}` references to earlier queries of the page; fill params and inputs."""

    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref in earlier:
            return f"({earlier[ref]})"
        # ${params.job}, ${inputs.grain}, ${inputs.job.value} -> the value of job / grain
        key = ref.split(".")[1] if "." in ref else ref
        if key not in values:
            raise KeyError(f"{page}: no bench value for ${{{ref}}}")
        return values[key]

    return re.sub(r"\$\{([\w.]+)\}", replace, sql.strip())


def _page_queries(top_keyword: str) -> dict[str, str]:
    """Every ```sql block of the dashboard pages, runnable: parameters filled, refs inlined."""
    if not PAGES.is_dir():
        return dict(REPRESENTATIVE_QUERIES)
    values = {**PARAMS, "keyword": top_keyword}
    queries: dict[str, str] = {}
    block = re.compile(r"^```sql\s+(\w+)\s*\n(.*?)^```", re.S | re.M)
    for page in sorted(PAGES.rglob("*.md")):
        earlier: dict[str, str] = {}
        for name, sql in block.findall(page.read_text(encoding="utf-8")):
            earlier[name] = _fill(sql, earlier, values, page)
            queries[f"{page.relative_to(PAGES).with_suffix('').as_posix()}:{name}"] = earlier[name]
    return queries


def _time(con: duckdb.DuckDBPyConnection, sql: str, repeats: int) -> dict[str, Any]:
    timings = []
    rows = 0
    for _ in range(repeats):
        started = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        timings.append((time.perf_counter() - started) * 1000)
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max_ms": round(ordered[-1], 2),
        "rows": rows,
        "repeats": repeats,
    }


def _extract_sources(marts_path: Path) -> tuple[duckdb.DuckDBPyConnection, float]:
    """Run dashboards/sources/marts/*.sql against marts.duckdb into schema `marts`, as
    `evidence sources` does; without the folder, the export's tables are copied as they are."""
    con = duckdb.connect()
    con.execute(f"attach '{marts_path}' as export (read_only)")
    con.execute("create schema memory.marts")
    started = time.perf_counter()
    if SOURCES.is_dir():
        sources = {f.stem: f.read_text(encoding="utf-8") for f in sorted(SOURCES.glob("*.sql"))}
    else:
        names = con.execute("select table_name from duckdb_tables() where database_name='export'")
        sources = {row[0]: f"select * from {row[0]}" for row in names.fetchall()}
    con.execute("use export")
    for name, sql in sources.items():
        con.execute(f"create table memory.marts.{name} as {sql}")
    con.execute("use memory")
    con.execute("detach export")
    return con, time.perf_counter() - started


def main() -> None:
    """Build, export, time and save."""
    work = WORK / "marts_queries"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lake = Lakehouse(work / "lake")

    started = time.perf_counter()
    counts = _write_upstream(lake)
    generate_s = time.perf_counter() - started
    dbt_s = _dbt_run(lake.root, work / "target")
    started = time.perf_counter()
    export = export_marts(lake, work / "marts.duckdb")
    export_s = time.perf_counter() - started

    marts, extract_s = _extract_sources(export.path)
    top = marts.execute(
        "select keyword from marts.keyword_sentiment_trends group by keyword "
        "order by sum(posts) desc, keyword limit 1"
    ).fetchone()
    queries = _page_queries(top[0] if top else "보스")
    timed = {name: _time(marts, sql, REPEATS) for name, sql in queries.items()}
    marts.close()

    compiled = work / "target" / "compiled" / "maple_sentiment" / "models"
    _raw_baseline(lake, list(counts), compiled, work / "raw.duckdb")
    raw = duckdb.connect()
    raw.execute(f"attach '{work / 'raw.duckdb'}' as lake (read_only)")
    raw.execute("use lake")
    baseline = {name: _time(raw, sql, BASELINE_REPEATS) for name, sql in queries.items()}
    raw.close()

    worst = max(timed.values(), key=lambda t: t["p95_ms"])
    worst_name = next(name for name, t in timed.items() if t is worst)
    slow = [name for name, t in timed.items() if t["p95_ms"] >= P95_TARGET_MS]
    p95s = [t["p95_ms"] for t in timed.values()]
    base_p95s = [t["p95_ms"] for t in baseline.values()]
    figures = {
        "posts": counts["raw_posts"],
        "upstream_rows": counts,
        "mart_rows": export.rows_by_table,
        "marts_built_by": "dbt run (real models) against a DuckLake built with lib/lakehouse",
        "query_source": "dashboards/pages/**/*.md" if PAGES.is_dir() else "representative",
        "queries": len(timed),
        "repeats": REPEATS,
        "generate_upstream_s": round(generate_s, 1),
        "dbt_run_s": round(dbt_s, 1),
        "export_s": round(export_s, 1),
        "source_extract_s": round(extract_s, 2),
        "max_p95_ms": max(p95s),
        "slowest_query": worst_name,
        "median_p95_ms": round(statistics.median(p95s), 2),
        "p95_target_ms": P95_TARGET_MS,
        "queries_over_target": slow,
        "per_query": timed,
        "sql": queries,
    }
    base = {
        "what": "the same page queries over the raw tables, each mart a view of dbt's compiled "
        "SQL (re-aggregated per query), plain DuckDB file",
        "repeats": BASELINE_REPEATS,
        "max_p95_ms": max(base_p95s),
        "median_p95_ms": round(statistics.median(base_p95s), 2),
        "per_query": baseline,
    }
    summary = (
        f"{len(timed)} dashboard queries on {counts['raw_posts']:,} synthetic posts: p95 "
        f"{max(p95s):.1f} ms at worst ({worst_name}), median p95 "
        f"{statistics.median(p95s):.1f} ms, target {P95_TARGET_MS:.0f} ms "
        f"{'met' if not slow else 'missed by ' + ', '.join(slow)}; the same queries over the "
        f"raw tables: p95 {max(base_p95s):.0f} ms at worst, median "
        f"{statistics.median(base_p95s):.0f} ms. Marts built by dbt in {dbt_s:.0f} s."
    )
    save("bench_marts_queries", figures, base, summary)


if __name__ == "__main__":
    main()
