-- one row per model version per (trusted label, predicted label) pair that occurs
select
    predictions.model_version,
    labels.reference_label,
    predictions.label as predicted_label,
    count(*) as posts
from {{ ref('stg_lake__ensemble_predictions') }} as predictions
inner join {{ ref('int_post_reference_labels') }} as labels using (board_id, post_id)
group by all
