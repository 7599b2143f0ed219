{#-
    posts and sentiment shares per `dimensions` per `period` ('day' or 'week', korean calendar),
    from int_post_sentiment (one row per post, the serving model's prediction), with the model
    version and how the model's labels agree with the final (human, else refined) labels.
-#}
{% macro sentiment_counts(dimensions, period) -%}
select
    posted_{{ period }} as period_start,
    {%- for dimension in dimensions %}
    {{ dimension }},
    {%- endfor %}
    model_version,
    count(*) as posts,
    count(*) filter (where label = '부정') as negative_posts,
    count(*) filter (where label = '중립') as neutral_posts,
    count(*) filter (where label = '긍정') as positive_posts,
    round(count(*) filter (where label = '부정') / count(*), 4) as negative_share,
    round(count(*) filter (where label = '중립') / count(*), 4) as neutral_share,
    round(count(*) filter (where label = '긍정') / count(*), 4) as positive_share,
    round((count(*) filter (where label = '긍정') - count(*) filter (where label = '부정'))
        / count(*), 4) as net_sentiment,
    round(avg(confidence), 4) as mean_confidence,
    count(label_final) as final_labeled_posts,
    count(*) filter (where label_final = label) as agreeing_posts,
    round(count(*) filter (where label_final = label) / nullif(count(label_final), 0), 4)
        as agreement_share,
    count(*) filter (where label_final_source = 'human') as human_labeled_posts,
    count(*) filter (where label_final_source = 'human' and label_final != label)
        as corrected_posts
from {{ ref('int_post_sentiment') }}
group by all
{%- endmacro %}
