-- every column of the sentiment_by_job_group_week mart, as dbt built it
select * from sentiment_by_job_group_week
