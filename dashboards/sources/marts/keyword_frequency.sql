-- every column of the keyword_frequency mart, as dbt built it
select * from keyword_frequency
