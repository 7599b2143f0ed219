-- one row per post with a trusted label: a person's latest correction wins over the latest
-- valid llm label. weak labels (the ensemble labeling itself) are left out, since grading a
-- model against its own answers would flatter it.
with human as (
    select board_id, post_id, new_label as label, created_at as labeled_at, 'human' as source
    from {{ ref('stg_lake__feedback') }}
    where post_id is not null
    qualify row_number() over (partition by board_id, post_id order by created_at desc) = 1
),

llm as (
    select board_id, post_id, label, labeled_at, 'llm' as source
    from {{ ref('stg_lake__labeled_chunks') }}
    where status = 'ok' and not is_weak and label is not null
    qualify row_number() over (partition by board_id, post_id order by labeled_at desc) = 1
)

select board_id, post_id, label as reference_label, source as reference_source, labeled_at
from human
union all
select llm.board_id, llm.post_id, llm.label, llm.source, llm.labeled_at
from llm
anti join human using (board_id, post_id)
