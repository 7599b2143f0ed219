-- one row per post with a final label: a person's newest label (a correction or an accept,
-- also one not yet refined) first, else the current refined label
with human as (
    select board_id, post_id, new_label as label_final, 'human' as label_final_source
    from {{ ref('stg_lake__feedback') }}
    where post_id is not null
    qualify row_number() over (
        partition by board_id, post_id order by created_at desc, feedback_id desc
    ) = 1
),

refined as (
    select board_id, post_id, label as label_final, label_source as label_final_source
    from {{ ref('stg_lake__refined_labels') }}
)

select * from human
union all
select * from refined
anti join human using (board_id, post_id)
