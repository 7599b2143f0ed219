-- one row per board per day
{{ sentiment_counts(['board_id', 'board_name'], 'day') }}
