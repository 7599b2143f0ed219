"""The audit trail: one row per write of a human label, saying who changed what, when."""

from __future__ import annotations

import sqlite3
from typing import Any

from sentiment_assets.lib.feedback.connection import StoreConnection


def record(con: sqlite3.Connection, **values: Any) -> None:
    """Append one audit row inside the caller's write transaction."""
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"insert into audit ({columns}) values ({marks})", list(values.values()))


class AuditTrail(StoreConnection):
    """Reading the audit trail."""

    def audit_trail(
        self, *, board_id: int | None = None, post_id: int | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Who changed which label when, newest first; optionally for one post."""
        sql = "select * from audit"
        params: list[Any] = []
        if board_id is not None and post_id is not None:
            sql += " where board_id = ? and post_id = ?"
            params += [board_id, post_id]
        sql += " order by id desc limit ?"
        params.append(limit)
        return [dict(r) for r in self._connect().execute(sql, params)]
