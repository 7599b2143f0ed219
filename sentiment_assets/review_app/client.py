"""The review app's way to the serving API: every read and write it makes, over HTTP.

The app holds no store or lake of its own: what a reviewer sees and writes goes through the
API, under the reviewer's token, so the API's checks (who may write, what may be stored, which
prediction a decision is about) hold for the app too.
"""

from __future__ import annotations

from typing import Any

import httpx

API_URL_ENV = "SENTIMENT_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:8000"
SOURCE = "review-app"


class ApiError(Exception):
    """The API refused a request or could not be reached; `message` says why, for a person."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(detail, list):  # a 422: one entry per invalid field
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}".lstrip(": ")
            for e in detail
            if isinstance(e, dict)
        )
    return str(detail)


class ReviewApi:
    """The serving API at `base_url`, with the reviewer's bearer `token` when there is one."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout_s: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout_s

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = httpx.request(
                method,
                f"{self.base_url}{path}",
                headers=self._headers,
                timeout=self._timeout,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise ApiError(f"the API at {self.base_url} does not answer: {exc}") from exc
        if response.status_code >= 400:
            raise ApiError(_reason(response), response.status_code)
        return response.json()

    def health(self) -> dict[str, Any]:
        """The model version served, its load error if any, feedback counts."""
        return self._call("GET", "/health")

    def me(self) -> dict[str, Any]:
        """Whose token this is."""
        return self._call("GET", "/me")

    def predict(self, text: str) -> dict[str, Any]:
        """The champion's answer for `text`, with the lexicon words behind it."""
        answer = self._call("POST", "/predict", json={"text": text, "explain": True})
        return {"model_version": answer["model_version"], **answer["predictions"][0]}

    def feedback(self, *, text: str, new_label: str, idempotency_key: str) -> dict[str, Any]:
        """Store the right label for `text`; the API records whose and what it corrects."""
        return self._call(
            "POST",
            "/feedback",
            json={
                "text": text,
                "new_label": new_label,
                "idempotency_key": idempotency_key,
                "source": SOURCE,
            },
        )

    def queue(
        self, *, board_id: int | None, job: str | None, include_reviewed: bool, limit: int
    ) -> dict[str, Any]:
        """The ranked review queue and review progress."""
        params: dict[str, Any] = {"include_reviewed": include_reviewed, "limit": limit}
        if board_id is not None:
            params["board_id"] = board_id
        if job:
            params["job"] = job
        return self._call("GET", "/review-queue", params=params)

    def review(
        self,
        *,
        board_id: int,
        post_id: int,
        decision: str,
        corrected_label: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Accept or correct a queued post's label."""
        body: dict[str, Any] = {
            "board_id": board_id,
            "post_id": post_id,
            "decision": decision,
            "idempotency_key": idempotency_key,
            "source": SOURCE,
        }
        if corrected_label is not None:
            body["corrected_label"] = corrected_label
        return self._call("POST", "/review", json=body)

    def audit(self, *, limit: int) -> list[dict[str, Any]]:
        """The newest entries of the audit trail."""
        return self._call("GET", "/audit", params={"limit": limit})
