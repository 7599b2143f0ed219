-- one row per korean calendar day with feedback: corrections, confirmations and reviewers
select
    created_day as day,
    count(*) as feedback_rows,
    count(*) filter (where old_label is distinct from new_label) as corrections,
    count(*) filter (where old_label = new_label) as confirmations,
    count(*) filter (where post_id is null) as free_text_rows,
    count(distinct reviewer) as reviewers
from {{ ref('stg_lake__feedback') }}
group by created_day
