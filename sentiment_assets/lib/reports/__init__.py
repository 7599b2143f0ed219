"""Monthly HTML reports per job group, rendered from the readers' marts export."""
