-- one row per post the serving model scored (int_serving_model: one version for every post,
-- never a mix), with the post's job group, job, board and calendar periods, and its final label
-- (human first, else refined) beside the model's
with serving as (
    select predictions.*
    from {{ ref('stg_lake__ensemble_predictions') }} as predictions
    semi join {{ ref('int_serving_model') }} as model using (model_version)
)

select
    posts.board_id,
    posts.post_id,
    posts.board_name,
    posts.job_group,
    posts.job,
    posts.title,
    posts.url,
    posts.posted_at,
    posts.posted_day,
    posts.posted_week,
    posts.posted_month,
    serving.model_version,
    serving.label,
    serving.confidence,
    serving.disagreement,
    serving.p_neg,
    serving.p_neu,
    serving.p_pos,
    final.label_final,
    final.label_final_source
from serving
inner join {{ ref('stg_lake__raw_posts') }} as posts using (board_id, post_id)
left join {{ ref('int_post_final_labels') }} as final using (board_id, post_id)
