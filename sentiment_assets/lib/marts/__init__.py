"""Marts for readers: keyword extraction for dbt, the dbt-duckdb extension plugin, the export."""
