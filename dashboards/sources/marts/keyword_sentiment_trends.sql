-- every column of the keyword_sentiment_trends mart, as dbt built it
select * from keyword_sentiment_trends
