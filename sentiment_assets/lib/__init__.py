"""Dagster-free building blocks: text handling, models, the lakehouse, LLM clients, settings."""
