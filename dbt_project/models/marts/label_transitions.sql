-- one row per (old label, new label) pair people chose: which way corrections move labels
-- (imported labels replace no label of ours, so they are left out).
-- old_label is '없음' where the post had no label before.
select
    coalesce(old_label, '없음') as old_label,
    new_label,
    count(*) as feedback_rows,
    round(count(*) / sum(count(*)) over (), 4) as share_of_feedback
from {{ ref('stg_lake__feedback') }}
where old_label is distinct from new_label and source is distinct from 'import'
group by all
