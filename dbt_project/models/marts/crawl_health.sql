-- one row per korean calendar day per board: posts crawled against pages that failed
with crawled as (
    select crawled_day as day, board_id, count(*) as posts_crawled, max(crawled_at) as last_crawled_at
    from {{ ref('stg_lake__raw_posts') }}
    group by all
),

failed as (
    select
        occurred_day as day,
        board_id,
        count(*) as errors,
        max(occurred_at) as last_error_at,
        arg_max(error, occurred_at) as last_error
    from {{ ref('stg_lake__crawl_errors') }}
    group by all
),

boards as (
    select board_id, any_value(board_name) as board_name
    from {{ ref('stg_lake__raw_posts') }}
    group by board_id
)

select
    day,
    board_id,
    boards.board_name,
    coalesce(crawled.posts_crawled, 0) as posts_crawled,
    coalesce(failed.errors, 0) as errors,
    round(coalesce(failed.errors, 0) / (coalesce(crawled.posts_crawled, 0) + coalesce(failed.errors, 0)), 4)
        as error_share,
    crawled.last_crawled_at,
    failed.last_error_at,
    failed.last_error
from crawled
full outer join failed using (day, board_id)
left join boards using (board_id)
