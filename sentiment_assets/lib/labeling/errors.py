"""Errors the labeling code raises; none of them ever turns into a label."""

from __future__ import annotations


class LabelingConfigError(ValueError):
    """The labeler is misconfigured; the message says how to fix it and retrying cannot help."""


class ProviderError(RuntimeError):
    """One request to a provider failed before an answer could be read.

    Attributes:
        retryable: whether sending the same request again may succeed (429, 5xx, timeouts,
            dropped connections).
        retry_after: the server's requested wait in seconds (Retry-After, retry-after-ms or
            Gemini's RetryInfo.retryDelay), when it gave one.
        status: the HTTP status, when there was a response.
        body: the response body (or the exception text) for the audit trail.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
        body: str = "",
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.body = body


class FormatRejectedError(ProviderError):
    """The server refused the structured-output mode (HTTP 400/422); a looser one may do."""
