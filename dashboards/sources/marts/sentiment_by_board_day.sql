-- every column of the sentiment_by_board_day mart, as dbt built it
select * from sentiment_by_board_day
