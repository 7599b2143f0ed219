-- one row: the model version whose predictions the marts show. the version recorded last in
-- serving_models (a champion that has scored every post); a lakehouse that never recorded one
-- falls back to the version of the newest prediction, whole, so a mart never mixes versions.
with recorded as (
    select model_version, registry_version, recorded_at as serving_since, reason
    from {{ ref('stg_lake__serving_models') }}
    order by recorded_at desc
    limit 1
),

newest as (
    select
        arg_max(model_version, predicted_at) as model_version,
        cast(null as integer) as registry_version,
        max(predicted_at) as serving_since,
        'newest predictions (no champion recorded yet)' as reason
    from {{ ref('stg_lake__ensemble_predictions') }}
    having count(*) > 0
)

select * from recorded
union all
select * from newest
where not exists (select 1 from recorded)
