-- one row per job_group per week
{{ sentiment_counts(['job_group'], 'week') }}
