-- every column of the label_transitions mart, as dbt built it
select * from label_transitions
