"""The `sentiment` command: one subcommand per module in this package."""
