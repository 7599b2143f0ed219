-- one row per failed page fetch or parse
with source as (
    {{ lake_source('crawl_errors', {
        'url': 'varchar', 'board_id': 'integer', 'page_kind': 'varchar', 'error': 'varchar',
        'saved_path': 'varchar', 'occurred_at': 'timestamp'
    }) }}
)

select
    *,
    cast(occurred_at + interval 9 hour as date) as occurred_day
from source
