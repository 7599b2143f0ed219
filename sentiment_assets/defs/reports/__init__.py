"""Monthly HTML reports per job group, refreshed after the marts export."""
