-- one row per time the marts' model changed: a champion recorded once it had scored every post
-- (sentiment_assets/lib/marts/serving.py)
with source as (
    {{ lake_source('serving_models', {
        'model_version': 'varchar', 'registry_version': 'integer', 'reason': 'varchar',
        'posts_scored': 'bigint', 'recorded_at': 'timestamp'
    }) }}
)

select model_version, registry_version, reason, posts_scored, recorded_at
from source
