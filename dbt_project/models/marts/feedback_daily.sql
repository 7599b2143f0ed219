-- one row per korean calendar day with feedback: corrections, confirmations, reviewers and how
-- much is still waiting for a training run to consume it
select
    created_day as day,
    count(*) as feedback_rows,
    count(*) filter (where old_label is distinct from new_label) as corrections,
    count(*) filter (where old_label = new_label) as confirmations,
    count(*) filter (where post_id is null) as free_text_rows,
    count(distinct reviewer) as reviewers,
    count(*) filter (where is_consumed) as consumed,
    count(*) filter (where not is_consumed) as unconsumed
from {{ ref('stg_lake__feedback') }}
group by created_day
