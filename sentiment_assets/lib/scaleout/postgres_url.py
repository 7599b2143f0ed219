"""PostgreSQL connection URLs from the environment, checked once and turned into each client's form.

Every engine takes the same `postgresql://user:password@host:port/database` URL; DuckDB wants
the parts as a secret, MLflow wants a SQLAlchemy URL, dagster-postgres takes the URL as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2")


class SettingsError(ValueError):
    """A scale-out setting is malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class PostgresUrl:
    """The parts of a PostgreSQL URL."""

    host: str
    port: int
    database: str
    user: str
    password: str
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, url: str, *, variable: str) -> PostgresUrl:
        """Parse `url`, naming `variable` in the error when it is not a usable PostgreSQL URL.

        Raises:
            SettingsError: wrong scheme, or no host, user or database.
        """
        parts = urlsplit(url.strip())
        shown = _redacted(url)
        if parts.scheme not in SCHEMES:
            raise SettingsError(
                f"{variable}={shown} is not a PostgreSQL URL: expected "
                "postgresql://user:password@host:5432/database"
            )
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise SettingsError(f"{variable}={shown} has an invalid port: {exc}") from exc
        database = unquote(parts.path.lstrip("/"))
        missing = [
            name
            for name, value in (
                ("host", parts.hostname),
                ("user", parts.username),
                ("database", database),
            )
            if not value
        ]
        if missing:
            raise SettingsError(
                f"{variable}={shown} lacks {', '.join(missing)}: expected "
                "postgresql://user:password@host:5432/database"
            )
        return cls(
            host=parts.hostname or "",
            port=port,
            database=database,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            options=tuple(parse_qsl(parts.query)),
        )

    def url(self, scheme: str = "postgresql") -> str:
        """The URL again, with `scheme` (MLflow wants `postgresql+psycopg2`)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in self.options)
        return f"{scheme}://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}" + (
            f"?{query}" if query else ""
        )

    def redacted(self) -> str:
        """The URL with the password replaced, for messages and logs."""
        return f"postgresql://{self.user}:***@{self.host}:{self.port}/{self.database}"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
