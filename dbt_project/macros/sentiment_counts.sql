{#-
    posts and sentiment shares per `dimensions` per `period` ('day' or 'week', korean calendar),
    from int_post_sentiment (one row per post, its newest prediction).
-#}
{% macro sentiment_counts(dimensions, period) -%}
select
    posted_{{ period }} as period_start,
    {%- for dimension in dimensions %}
    {{ dimension }},
    {%- endfor %}
    count(*) as posts,
    count(*) filter (where label = '부정') as negative_posts,
    count(*) filter (where label = '중립') as neutral_posts,
    count(*) filter (where label = '긍정') as positive_posts,
    round(count(*) filter (where label = '부정') / count(*), 4) as negative_share,
    round(count(*) filter (where label = '중립') / count(*), 4) as neutral_share,
    round(count(*) filter (where label = '긍정') / count(*), 4) as positive_share,
    round((count(*) filter (where label = '긍정') - count(*) filter (where label = '부정'))
        / count(*), 4) as net_sentiment,
    round(avg(confidence), 4) as mean_confidence
from {{ ref('int_post_sentiment') }}
group by all
{%- endmacro %}
