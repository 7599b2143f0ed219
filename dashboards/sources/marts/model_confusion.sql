-- every column of the model_confusion mart, as dbt built it
select * from model_confusion
