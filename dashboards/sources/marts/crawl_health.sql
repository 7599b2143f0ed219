-- every column of the crawl_health mart, as dbt built it
select * from crawl_health
