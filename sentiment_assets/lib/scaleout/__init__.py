"""Scale-out settings: PostgreSQL and S3-compatible storage for Dagster, DuckLake and MLflow."""
