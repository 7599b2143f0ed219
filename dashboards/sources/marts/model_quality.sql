-- model_quality, versions in the order they first predicted (the newest last)
select * from model_quality order by first_predicted_at, model_version
