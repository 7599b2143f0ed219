-- one row per job per day
{{ sentiment_counts(['job_group', 'job'], 'day') }}
