"""The Evidence dashboards: install, build fully offline, and serve the static site."""
