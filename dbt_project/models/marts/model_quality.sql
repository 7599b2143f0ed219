-- one row per model version: how its predictions agree with trusted labels (human labels,
-- else valid non-weak llm labels) on the posts where both exist. a comparison across versions by
-- design; is_serving marks the one every other prediction mart shows
with scored as (
    select
        predictions.model_version,
        predictions.label as predicted_label,
        labels.reference_label,
        predictions.confidence,
        predictions.disagreement
    from {{ ref('stg_lake__ensemble_predictions') }} as predictions
    inner join {{ ref('int_post_reference_labels') }} as labels using (board_id, post_id)
),

per_class as (
    select
        model_version,
        class,
        count(*) filter (where predicted_label = class and reference_label = class) as hits,
        count(*) filter (where predicted_label = class) as predicted,
        count(*) filter (where reference_label = class) as actual
    from scored
    cross join (select unnest(['부정', '중립', '긍정']) as class) as classes
    group by all
),

f1 as (
    select
        model_version,
        -- classes absent from both sides are left out of the macro average, as in scikit-learn
        -- with labels restricted to those present
        avg(2.0 * hits / (predicted + actual)) filter (where predicted + actual > 0) as macro_f1,
        max(hits / nullif(actual, 0)) filter (where class = '부정') as negative_recall,
        max(hits / nullif(actual, 0)) filter (where class = '중립') as neutral_recall,
        max(hits / nullif(actual, 0)) filter (where class = '긍정') as positive_recall
    from per_class
    group by model_version
),

totals as (
    select
        model_version,
        count(*) as evaluated_posts,
        avg(cast(predicted_label = reference_label as double)) as accuracy,
        avg(confidence) as mean_confidence,
        avg(disagreement) as mean_disagreement
    from scored
    group by model_version
),

coverage as (
    select
        model_version,
        count(*) as predicted_posts,
        min(predicted_at) as first_predicted_at,
        max(predicted_at) as last_predicted_at
    from {{ ref('stg_lake__ensemble_predictions') }}
    group by model_version
)

select
    coverage.model_version,
    coverage.predicted_posts,
    coalesce(totals.evaluated_posts, 0) as evaluated_posts,
    round(totals.accuracy, 4) as accuracy,
    round(f1.macro_f1, 4) as macro_f1,
    round(f1.negative_recall, 4) as negative_recall,
    round(f1.neutral_recall, 4) as neutral_recall,
    round(f1.positive_recall, 4) as positive_recall,
    round(totals.mean_confidence, 4) as mean_confidence,
    round(totals.mean_disagreement, 4) as mean_disagreement,
    coverage.first_predicted_at,
    coverage.last_predicted_at,
    coverage.model_version in (select model_version from {{ ref('int_serving_model') }})
        as is_serving
from coverage
left join totals using (model_version)
left join f1 using (model_version)
