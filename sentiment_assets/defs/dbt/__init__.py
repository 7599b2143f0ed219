"""Marts: dbt models over the lakehouse, post keywords, and the readers' export."""
