-- one row per post per model version
with source as (
    {{ lake_source('ensemble_predictions', {
        'board_id': 'integer', 'post_id': 'bigint', 'model_version': 'varchar',
        'p_neg': 'double', 'p_neu': 'double', 'p_pos': 'double', 'label': 'varchar',
        'confidence': 'double', 'disagreement': 'double', 'predicted_at': 'timestamp'
    }) }}
)

select * from source
