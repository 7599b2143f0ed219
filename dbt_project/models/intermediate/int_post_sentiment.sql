-- one row per predicted post: its newest prediction (latest model version to score it) with
-- the post's job group, job, board and calendar periods.
with newest as (
    select *
    from {{ ref('stg_lake__ensemble_predictions') }}
    qualify row_number() over (
        partition by board_id, post_id order by predicted_at desc, model_version desc
    ) = 1
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
    newest.model_version,
    newest.label,
    newest.confidence,
    newest.disagreement,
    newest.p_neg,
    newest.p_neu,
    newest.p_pos
from newest
inner join {{ ref('stg_lake__raw_posts') }} as posts using (board_id, post_id)
