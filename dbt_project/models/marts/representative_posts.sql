-- one row per job per sentiment label per rank: the three posts the serving model is most
-- confident about, with links, so an analyst can read why the community feels that way
select
    job_group,
    job,
    label,
    cast(row_number() over (
        partition by job_group, job, label order by confidence desc, posted_at desc, post_id
    ) as integer) as post_rank,
    board_id,
    post_id,
    board_name,
    title,
    url,
    confidence,
    posted_at,
    model_version
from {{ ref('int_post_sentiment') }}
qualify post_rank <= 3
