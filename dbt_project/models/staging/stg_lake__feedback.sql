-- one row per human correction; post_id is null for free text
with source as (
    {{ lake_source('feedback', {
        'id': 'varchar', 'board_id': 'integer', 'post_id': 'bigint', 'text': 'varchar',
        'old_label': 'varchar', 'new_label': 'varchar', 'reviewer': 'varchar',
        'created_at': 'timestamp', 'consumed_by': 'varchar'
    }) }}
)

select
    id as feedback_id,
    board_id,
    post_id,
    text,
    old_label,
    new_label,
    reviewer,
    created_at,
    cast(created_at + interval 9 hour as date) as created_day,
    consumed_by,
    consumed_by is not null as is_consumed
from source
