{#-
    select `columns` (name -> duckdb type) from the upstream lake table `table_name`.

    the upstream tables are written by independent python assets, so early in a lakehouse's
    life some do not exist yet. rather than fail the whole build, a staging model over an
    absent table is an empty view with the same columns, and the build log says so; once the
    table lands the next build selects from it. a table that exists but lacks a column still
    fails loudly: the staging model is the one place to adapt to upstream renames.
-#}
{% macro lake_source(table_name, columns) -%}
    {%- set src = source('lake', table_name) -%}
    {%- set relation = none -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(
            database=src.database, schema=src.schema, identifier=src.identifier
        ) -%}
    {%- endif -%}
    {%- if relation is not none or not execute %}
    select
        {%- for name, type in columns.items() %}
        cast({{ name }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ src }}
    {%- else -%}
    {{ log("source lake." ~ table_name ~ " is absent: " ~ this ~ " stays empty until it lands", info=true) }}
    select
        {%- for name, type in columns.items() %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{%- endmacro %}
