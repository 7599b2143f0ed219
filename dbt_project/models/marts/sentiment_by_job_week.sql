-- one row per job per week
{{ sentiment_counts(['job_group', 'job'], 'week') }}
