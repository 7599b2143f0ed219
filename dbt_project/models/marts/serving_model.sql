-- one row: the model version every prediction-based mart shows, its registry version, since
-- when it serves and why, and how many posts it scored
select
    model.model_version,
    model.registry_version,
    model.serving_since,
    model.reason,
    (select count(*) from {{ ref('int_post_sentiment') }}) as posts
from {{ ref('int_serving_model') }} as model
