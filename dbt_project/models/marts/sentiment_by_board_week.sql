-- one row per board per week
{{ sentiment_counts(['board_id', 'board_name'], 'week') }}
