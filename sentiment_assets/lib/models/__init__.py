"""The ensemble's members and the ensemble itself: pure train/predict code, no Dagster."""
