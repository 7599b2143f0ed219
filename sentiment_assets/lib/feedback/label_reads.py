"""Reading human labels: single rows, ranges, and the cheap counts the sensor needs."""

from __future__ import annotations

from typing import Any

from sentiment_assets.lib.feedback.connection import StoreConnection
from sentiment_assets.lib.feedback.records import FEEDBACK_COLUMNS, FeedbackRow


class LabelReads(StoreConnection):
    """Stored corrections, and what the sensor and the training run need to know of them."""

    def get(self, feedback_id: int) -> FeedbackRow | None:
        """The correction with `feedback_id`, if stored."""
        row = (
            self._connect()
            .execute(f"select {FEEDBACK_COLUMNS} from feedback where id = ?", [feedback_id])
            .fetchone()
        )
        return FeedbackRow(**dict(row)) if row else None

    def count(self) -> int:
        """How many human labels (corrections and accepts) are stored."""
        return int(self._connect().execute("select count(*) from feedback").fetchone()[0])

    def rows_after(
        self, after_id: int, *, up_to_id: int | None = None, limit: int | None = None
    ) -> list[FeedbackRow]:
        """Corrections with `after_id < id <= up_to_id`, oldest first."""
        sql = f"select {FEEDBACK_COLUMNS} from feedback where id > ?"
        params: list[Any] = [after_id]
        if up_to_id is not None:
            sql += " and id <= ?"
            params.append(up_to_id)
        sql += " order by id"
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        return [FeedbackRow(**dict(r)) for r in self._connect().execute(sql, params)]

    def unconsumed_summary(self, after_id: int = 0) -> tuple[int, int]:
        """(count, highest id) of human labels not yet used by training, with id > `after_id`.

        Corrections and accepts count alike: each is a person's label.

        Served from a partial index over unconsumed rows, so a sensor tick stays cheap.
        """
        row = (
            self._connect()
            .execute(
                "select count(*), coalesce(max(id), 0) from feedback "
                "where consumed_by is null and id > ?",
                [after_id],
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def unconsumed_count(self, after_id: int = 0) -> int:
        """How many corrections training has not used yet (id > `after_id`)."""
        return self.unconsumed_summary(after_id)[0]

    def max_unconsumed_id(self, after_id: int = 0) -> int:
        """The highest unconsumed correction id (0 when there is none)."""
        return self.unconsumed_summary(after_id)[1]
