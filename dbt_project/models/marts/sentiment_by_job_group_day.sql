-- one row per job_group per day
{{ sentiment_counts(['job_group'], 'day') }}
