-- when the marts were exported, as a plain UTC timestamp: page SQL runs on DuckDB 0.9.1
-- (duckdb-wasm 1.28.0) without the icu extension, which TIMESTAMP WITH TIME ZONE would need
select lake_snapshot_id, make_timestamp(epoch_us(exported_at)) as exported_at_utc, tables
from export_info
