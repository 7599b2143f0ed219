-- one row per scored post per model version. posts with no text are recorded upstream with
-- status 'empty' and no label; there is nothing to count for them, so they stop here.
with source as (
    {{ lake_source('ensemble_predictions', {
        'board_id': 'integer', 'post_id': 'bigint', 'model_version': 'varchar',
        'p_neg': 'double', 'p_neu': 'double', 'p_pos': 'double', 'label': 'varchar',
        'confidence': 'double', 'disagreement': 'double', 'status': 'varchar',
        'scored_at': 'timestamp'
    }) }}
)

select
    board_id,
    post_id,
    model_version,
    p_neg,
    p_neu,
    p_pos,
    label,
    confidence,
    disagreement,
    scored_at as predicted_at
from source
where status = 'ok'
