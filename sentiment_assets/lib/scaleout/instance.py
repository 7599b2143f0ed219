"""The Dagster instance config: the tracked dagster.yaml, plus PostgreSQL storage when configured.

With `SENTIMENT_DAGSTER_POSTGRES_URL` set, runs, event logs and schedules (and the pools' slot
counts) go to PostgreSQL through dagster-postgres instead of SQLite files in DAGSTER_HOME, so
many processes and machines share one instance without `database is locked`. The rendered file
names the variable, never the URL: the password stays in the environment.

The URL must say `postgresql+psycopg2://`: SQLAlchemy 2.1 reads a bare `postgresql://` as
psycopg 3, whose server-side parameters break dagster-postgres' `NOTIFY run_events, %s`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sentiment_assets.lib.scaleout.postgres_url import PostgresUrl, SettingsError

DAGSTER_POSTGRES = "SENTIMENT_DAGSTER_POSTGRES_URL"

STORAGE_BLOCK = f"""
# Rendered because {DAGSTER_POSTGRES} is set: runs, event logs, schedules and pool slots in
# PostgreSQL (dagster-postgres). The URL itself stays in the environment.
storage:
  postgres:
    postgres_url:
      env: {DAGSTER_POSTGRES}
"""


def render_instance_config(tracked: str, env: Mapping[str, str] | None = None) -> str:
    """`tracked` (dagster.yaml's text) with the storage section the environment asks for.

    Raises:
        SettingsError: the URL is set but is not a PostgreSQL URL.
    """
    env = os.environ if env is None else env
    raw = env.get(DAGSTER_POSTGRES, "").strip()
    if not raw:
        return tracked
    PostgresUrl.parse(raw, variable=DAGSTER_POSTGRES)
    if not raw.startswith("postgresql+psycopg2://"):
        raise SettingsError(
            f"{DAGSTER_POSTGRES} must start with postgresql+psycopg2:// (dagster-postgres needs "
            "the psycopg2 driver; SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3)"
        )
    if "\nstorage:" in "\n" + tracked:
        raise ValueError(
            f"dagster.yaml already has a storage section; unset {DAGSTER_POSTGRES} or remove it"
        )
    return tracked.rstrip("\n") + "\n" + STORAGE_BLOCK


if __name__ == "__main__":
    # `make` renders DAGSTER_HOME/dagster.yaml through here (see the Makefile).
    from sentiment_assets.lib.settings import ensure_dagster_home

    print(f"Dagster instance config: {ensure_dagster_home() / 'dagster.yaml'}")
