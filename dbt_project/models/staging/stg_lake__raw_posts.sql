-- one row per post (board_id, post_id); dates and weeks are korean calendar days, because
-- the crawler stores naive utc and the community lives on kst.
with source as (
    {{ lake_source('raw_posts', {
        'board_id': 'integer', 'post_id': 'bigint', 'board_name': 'varchar',
        'job_group': 'varchar', 'category': 'varchar', 'job': 'varchar', 'title': 'varchar',
        'body': 'varchar', 'author_hash': 'varchar', 'posted_at': 'timestamp',
        'views': 'integer', 'recommends': 'integer', 'url': 'varchar',
        'content_hash': 'varchar', 'crawled_at': 'timestamp'
    }) }}
)

select
    board_id,
    post_id,
    board_name,
    coalesce(nullif(trim(job_group), ''), '미분류') as job_group,
    coalesce(nullif(trim(job), ''), '미분류') as job,
    category,
    title,
    body,
    author_hash,
    posted_at,
    cast(posted_at + interval 9 hour as date) as posted_day,
    cast(date_trunc('week', posted_at + interval 9 hour) as date) as posted_week,
    cast(date_trunc('month', posted_at + interval 9 hour) as date) as posted_month,
    views,
    recommends,
    url,
    content_hash,
    crawled_at,
    cast(crawled_at + interval 9 hour as date) as crawled_day
from source
