-- one row per refined post: its current label (the highest label version; refinement appends
-- versions and never rewrites one), where it came from and when it was set
with source as (
    {{ lake_source('refined_labels', {
        'board_id': 'integer', 'post_id': 'bigint', 'label_version': 'integer',
        'label': 'varchar', 'source': 'varchar', 'refined_at': 'timestamp'
    }) }}
)

select board_id, post_id, label, source as label_source, label_version, refined_at
from source
qualify label_version = max(label_version) over (partition by board_id, post_id)
