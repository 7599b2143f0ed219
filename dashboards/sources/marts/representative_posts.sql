-- every column of the representative_posts mart, as dbt built it
select * from representative_posts
