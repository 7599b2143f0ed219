-- every column of the feedback_daily mart, as dbt built it
select * from feedback_daily
