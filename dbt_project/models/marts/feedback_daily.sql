-- one row per korean calendar day with feedback: reviews of posts (corrections and
-- confirmations, i.e. accepts), free-text sentences, and labels imported from files
select
    created_day as day,
    count(*) as feedback_rows,
    count(*) filter (where source is distinct from 'import' and old_label is distinct from new_label)
        as corrections,
    count(*) filter (where source is distinct from 'import' and old_label = new_label)
        as confirmations,
    count(*) filter (where source is distinct from 'import' and post_id is null) as free_text_rows,
    count(*) filter (where source = 'import') as imported_labels,
    count(distinct reviewer) filter (where source is distinct from 'import') as reviewers
from {{ ref('stg_lake__feedback') }}
group by created_day
