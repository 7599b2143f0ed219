-- every column of the labeling_usage mart, as dbt built it
select * from labeling_usage
