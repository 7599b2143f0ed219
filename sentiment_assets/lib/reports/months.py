"""Calendar months as the reports name them: `YYYY-MM`, first day of a KST month in the marts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthFormatError(ValueError):
    """A month was not given as YYYY-MM."""


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month; the marts' days and weeks are Korean calendar dates already."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2025-03` -> Month(2025, 3).

        Raises:
            MonthFormatError: `text` is not YYYY-MM with a month from 01 to 12.
        """
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise MonthFormatError(f"month {text!r} is not YYYY-MM (for example 2025-03)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month `day` falls in."""
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The first day of the next month (exclusive end)."""
        return self.next().start

    def next(self) -> Month:
        """The month after this one."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        """The month before this one."""
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        """`YYYY-MM`, the name of the month's report folder."""
        return f"{self.year:04d}-{self.month:02d}"
