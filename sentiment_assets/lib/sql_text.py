"""Text spliced into DuckDB statements that take no parameters (ATTACH, COPY ... TO, SECRET)."""


def sql_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal, quotes doubled."""
    return "'" + text.replace("'", "''") + "'"
