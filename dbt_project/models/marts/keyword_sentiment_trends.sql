-- one row per keyword per week per sentiment label, for the 200 keywords most posts mention
with mentions as (
    select
        keywords.keyword,
        posts.posted_week,
        posts.label,
        posts.model_version,
        posts.board_id,
        posts.post_id
    from {{ ref('stg_lake__post_keywords') }} as keywords
    inner join {{ ref('int_post_sentiment') }} as posts using (board_id, post_id)
),

top_keywords as (
    select keyword
    from mentions
    group by keyword
    order by count(*) desc, keyword
    limit 200
),

counted as (
    select keyword, posted_week as week_start, label, model_version, count(*) as posts
    from mentions
    semi join top_keywords using (keyword)
    group by all
)

select
    *,
    round(posts / sum(posts) over (partition by keyword, week_start), 4) as share_of_keyword_week
from counted
