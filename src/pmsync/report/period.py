"""Report periods: a calendar month (``2026-11``) and the moments that bound it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pmsync.errors import ConfigError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month; ``end_moment`` is the last microsecond of its last day, in UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ConfigError(
                f"period {text!r} is not a month", record="--period", hint="write it as YYYY-MM, e.g. 2026-11"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: date) -> Period:
        return cls(moment.year, moment.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def end_moment(self) -> datetime:
        """The as-of moment that closes the period: everything stored on its last day counts."""
        return datetime.combine(self.next().start, datetime.min.time(), tzinfo=UTC) - timedelta(
            microseconds=1
        )

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (1 if self.month == 1 else 0), 12 if self.month == 1 else self.month - 1)

    def __str__(self) -> str:
        return self.label
