-- one row per period (week or month) per job per keyword: the 50 keywords most posts mention
with mentions as (
    select
        posts.posted_week,
        posts.posted_month,
        posts.job_group,
        posts.job,
        keywords.keyword,
        keywords.board_id,
        keywords.post_id
    from {{ ref('stg_lake__post_keywords') }} as keywords
    inner join {{ ref('stg_lake__raw_posts') }} as posts using (board_id, post_id)
),

counted as (
    select 'week' as period_grain, posted_week as period_start, job_group, job, keyword,
        count(distinct (board_id, post_id)) as posts
    from mentions
    group by all
    union all
    select 'month', posted_month, job_group, job, keyword, count(distinct (board_id, post_id))
    from mentions
    group by all
)

select
    *,
    cast(row_number() over (
        partition by period_grain, period_start, job_group, job order by posts desc, keyword
    ) as integer) as keyword_rank
from counted
qualify keyword_rank <= 50
