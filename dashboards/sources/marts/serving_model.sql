-- the one model every prediction mart shows (the serving champion), for the pages' footers
select model_version, registry_version, serving_since, reason, posts from serving_model
