-- one row per post per labeling attempt
with source as (
    {{ lake_source('labeled_chunks', {
        'chunk_id': 'varchar', 'board_id': 'integer', 'post_id': 'bigint', 'label': 'varchar',
        'confidence': 'double', 'provider': 'varchar', 'model': 'varchar',
        'prompt_version': 'varchar', 'tokens_in': 'bigint', 'tokens_out': 'bigint',
        'latency_ms': 'double', 'cost_usd': 'double', 'status': 'varchar',
        'is_weak': 'boolean', 'labeled_at': 'timestamp'
    }) }}
)

select
    chunk_id,
    board_id,
    post_id,
    label,
    confidence,
    provider,
    model,
    coalesce(prompt_version, '-') as prompt_version,
    coalesce(tokens_in, 0) as tokens_in,
    coalesce(tokens_out, 0) as tokens_out,
    latency_ms,
    -- a provider without a price list reports no cost; count it as zero, not unknown
    coalesce(cost_usd, 0) as cost_usd,
    status,
    coalesce(is_weak, false) as is_weak,
    labeled_at,
    cast(labeled_at + interval 9 hour as date) as labeled_day
from source
