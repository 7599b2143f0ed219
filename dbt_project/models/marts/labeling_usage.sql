-- one row per korean calendar day per provider, model and prompt version: attempts by status,
-- tokens, cost and latency
select
    labeled_day as day,
    provider,
    model,
    prompt_version,
    count(*) as attempts,
    count(distinct (board_id, post_id)) as posts,
    count(*) filter (where status = 'ok') as ok_attempts,
    count(*) filter (where status = 'invalid') as invalid_attempts,
    count(*) filter (where status = 'failed') as failed_attempts,
    count(*) filter (where is_weak) as weak_attempts,
    cast(sum(tokens_in) as bigint) as tokens_in,
    cast(sum(tokens_out) as bigint) as tokens_out,
    round(sum(cost_usd), 6) as cost_usd,
    round(avg(latency_ms), 1) as mean_latency_ms,
    round(quantile_cont(latency_ms, 0.95), 1) as p95_latency_ms
from {{ ref('stg_lake__labeled_chunks') }}
group by all
