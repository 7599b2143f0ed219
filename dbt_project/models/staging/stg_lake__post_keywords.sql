-- one row per post per keyword (kiwi nouns, stopwords removed)
with source as (
    {{ lake_source('post_keywords', {
        'board_id': 'integer', 'post_id': 'bigint', 'keyword': 'varchar'
    }) }}
)

select * from source
