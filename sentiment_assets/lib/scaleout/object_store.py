"""The S3-compatible object storage that the lakehouse's data files and MLflow's artifacts share.

Unset, nothing uses object storage. With an endpoint (MinIO, Ceph, moto, ...) requests go
there path-style; without one they go to AWS S3. Credentials are the standard
`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) variables; DuckDB gets
them as a secret, boto3 and MLflow read them themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sentiment_assets.lib.scaleout.postgres_url import SettingsError
from sentiment_assets.lib.sql_text import sql_literal

ENDPOINT = "SENTIMENT_S3_ENDPOINT"
REGION = "SENTIMENT_S3_REGION"
URL_STYLE = "SENTIMENT_S3_URL_STYLE"


@dataclass(frozen=True)
class ObjectStore:
    """Where and how to reach S3-compatible storage."""

    access_key: str
    secret_key: str
    session_token: str | None = None
    endpoint: str | None = None
    """`http(s)://host:port` of an S3-compatible server; None means AWS S3."""
    region: str = "us-east-1"
    url_style: str = "vhost"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, needed_by: str) -> ObjectStore:
        """Settings from the environment; `needed_by` names the variable that asked for S3.

        Raises:
            SettingsError: credentials are missing or the endpoint/URL style is malformed.
        """
        env = os.environ if env is None else env
        access_key = env.get("AWS_ACCESS_KEY_ID", "")
        secret_key = env.get("AWS_SECRET_ACCESS_KEY", "")
        if not access_key or not secret_key:
            raise SettingsError(
                f"{needed_by} points at S3, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
                "not both set: set the object storage credentials (and SENTIMENT_S3_ENDPOINT for "
                "an S3-compatible server other than AWS)."
            )
        endpoint = env.get(ENDPOINT) or None
        if endpoint is not None:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                raise SettingsError(
                    f"{ENDPOINT}={endpoint} must be http(s)://host[:port], e.g. "
                    "http://127.0.0.1:9000"
                )
        url_style = env.get(URL_STYLE) or ("path" if endpoint else "vhost")
        if url_style not in ("path", "vhost"):
            raise SettingsError(f"{URL_STYLE}={url_style} must be `path` or `vhost`")
        return cls(
            access_key=access_key,
            secret_key=secret_key,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
            endpoint=endpoint,
            region=env.get(REGION) or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            url_style=url_style,
        )

    def duckdb_secret_sql(self, name: str = "sentiment_s3") -> str:
        """CREATE SECRET for DuckDB's httpfs (temporary: it lives and dies with the connection)."""
        fields = [
            "type s3",
            f"key_id {sql_literal(self.access_key)}",
            f"secret {sql_literal(self.secret_key)}",
            f"region {sql_literal(self.region)}",
            f"url_style {sql_literal(self.url_style)}",
        ]
        if self.session_token:
            fields.append(f"session_token {sql_literal(self.session_token)}")
        if self.endpoint:
            parts = urlsplit(self.endpoint)
            fields.append(f"endpoint {sql_literal(parts.netloc)}")
            fields.append(f"use_ssl {'true' if parts.scheme == 'https' else 'false'}")
        return f"create or replace secret {name} ({', '.join(fields)})"

    def boto3_kwargs(self) -> dict[str, str]:
        """Keyword arguments for `boto3.client("s3", ...)`."""
        kwargs = {
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.region,
        }
        if self.session_token:
            kwargs["aws_session_token"] = self.session_token
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        return kwargs


def split_s3_url(url: str, *, variable: str) -> tuple[str, str]:
    """`s3://bucket/prefix/` -> (`bucket`, `prefix/`), the prefix empty or ending in `/`.

    Raises:
        SettingsError: not an s3:// URL with a bucket.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise SettingsError(f"{variable}={url} must be an s3://bucket/prefix/ URL")
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return parts.netloc, prefix
