-- one row per human label (a correction, an accept: old_label = new_label, or an import);
-- post_id is null for free text. which training run consumed a label lives in the feedback
-- store, not in the lake.
with source as (
    {{ lake_source('feedback', {
        'feedback_id': 'varchar', 'board_id': 'integer', 'post_id': 'bigint', 'text': 'varchar',
        'old_label': 'varchar', 'new_label': 'varchar', 'reviewer': 'varchar',
        'source': 'varchar', 'created_at': 'timestamp'
    }) }}
)

select
    feedback_id,
    board_id,
    post_id,
    text,
    old_label,
    new_label,
    reviewer,
    source,
    created_at,
    cast(created_at + interval 9 hour as date) as created_day
from source
