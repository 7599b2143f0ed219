"""Errors the lakehouse raises, each saying what to do about it."""


class LakehouseError(RuntimeError):
    """The lakehouse cannot be opened or written; the message names the fix."""
