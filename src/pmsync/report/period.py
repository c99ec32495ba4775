"""Report periods and the agency's reporting calendar.

A :class:`Period` is a calendar month (``2026-11``) or quarter (``2026-Q4``). The
:class:`ReportingCalendar` (``reporting:`` in pmsync.yaml) says, in the agency's own time zone, which
day is a period's *status date*, the moment that day ends (the valid time a report describes), and
until when a closed period is still "the period to report" (its close window): November's committee
pack is built in the first working days of December, so ``pmsync report`` without ``--period`` on
2026-12-04 reports November, and says why.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pmsync.config import ReportingConfig
from pmsync.errors import ConfigError
from pmsync.reconcile.calendar import WorkingCalendar

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)

Cadence = Literal["monthly", "quarterly"]


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (``months == 1``) or quarter (``months == 3``) starting at ``year-month``."""

    year: int
    month: int
    months: int = 1

    @classmethod
    def parse(cls, text: str) -> Period:
        """``YYYY-MM`` (a month) or ``YYYY-Qn`` (a quarter)."""
        stripped = text.strip()
        match = _MONTH.match(stripped)
        if match and 1 <= int(match.group(2)) <= 12:
            return cls(int(match.group(1)), int(match.group(2)))
        match = _QUARTER.match(stripped)
        if match:
            return cls(int(match.group(1)), 3 * int(match.group(2)) - 2, 3)
        raise ConfigError(
            f"period {text!r} is not a month or a quarter",
            record="--period",
            hint="write it as YYYY-MM (e.g. 2026-11) or YYYY-Qn (e.g. 2026-Q4)",
        )

    @classmethod
    def containing(cls, day: date, cadence: Cadence = "monthly") -> Period:
        if cadence == "quarterly":
            return cls(day.year, 3 * ((day.month - 1) // 3) + 1, 3)
        return cls(day.year, day.month)

    @property
    def label(self) -> str:
        if self.months == 3:
            return f"{self.year:04d}-Q{(self.month - 1) // 3 + 1}"
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The period's last calendar day."""
        return self.next().start - timedelta(days=1)

    def next(self) -> Period:
        index = self.year * 12 + self.month - 1 + self.months
        return Period(index // 12, index % 12 + 1, self.months)

    def previous(self) -> Period:
        index = self.year * 12 + self.month - 1 - self.months
        return Period(index // 12, index % 12 + 1, self.months)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class PeriodChoice:
    """The period ``pmsync report`` chose without ``--period``, and why (printed for the user)."""

    period: Period
    reason: str


class ReportingCalendar:
    """Status dates, status moments and close windows of periods, in the agency's time zone."""

    def __init__(self, settings: ReportingConfig | None = None) -> None:
        self.settings = settings or ReportingConfig()
        self.zone = self.settings.zone
        self.working = WorkingCalendar(self.settings.holidays)

    @property
    def cadence(self) -> Cadence:
        return self.settings.cadence

    def parse(self, text: str) -> Period:
        """A ``--period`` value; a month under a quarterly cadence (or the reverse) is refused, so a
        quarterly agency never publishes a one-month pack by mistake."""
        period = Period.parse(text)
        if (period.months == 3) != (self.cadence == "quarterly"):
            example = "2026-Q4" if self.cadence == "quarterly" else "2026-11"
            raise ConfigError(
                f"period {text!r} does not match the {self.cadence} reporting cadence",
                record="--period",
                hint=f"write it as {example}, or change reporting.cadence in pmsync.yaml",
            )
        return period

    def local_date(self, moment: datetime) -> date:
        """The agency's calendar date at ``moment``."""
        return moment.astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """The last microsecond of ``day`` in the agency's zone, as a UTC moment (DST-aware)."""
        following = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.zone)
        return following.astimezone(UTC) - timedelta(microseconds=1)

    def start_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def status_date(self, period: Period) -> date:
        """The day a period's report describes, by the configured rule."""
        rule = self.settings.status_date
        last = period.end
        if rule == "last_day":
            return last
        if rule == "last_working_day":
            day = last
            while not self.working.is_working_day(day) and day > period.start:
                day -= timedelta(days=1)
            return day
        days_in_month = _calendar.monthrange(last.year, last.month)[1]
        return date(last.year, last.month, min(int(rule), days_in_month))

    def status_moment(self, period: Period) -> datetime:
        """The valid time a period's report describes: the end of its status date, in UTC."""
        return self.end_of_day(self.status_date(period))

    def close_deadline(self, period: Period) -> date:
        """The last day a closed period is still the one to report: its ``close_working_days``-th
        working day after the period ends (the period's last day itself when the window is 0)."""
        if self.settings.close_working_days == 0:
            return period.end
        return self.working.add(period.end, self.settings.close_working_days)

    def close_moment(self, period: Period) -> datetime:
        return self.end_of_day(self.close_deadline(period))

    def default_period(self, moment: datetime) -> PeriodChoice:
        """The last closed period while its close window is open, else the current one."""
        today = self.local_date(moment)
        current = Period.containing(today, self.cadence)
        closed = current.previous()
        deadline = self.close_deadline(closed)
        zone = self.settings.time_zone
        if today <= deadline:
            return PeriodChoice(
                closed,
                f"{closed} closed on {closed.end.isoformat()} and is within its close window until "
                f"{deadline.isoformat()} ({self.settings.close_working_days} working days, {zone})",
            )
        return PeriodChoice(
            current,
            f"{closed}'s close window ended on {deadline.isoformat()}, so the current period {current} "
            f"is reported, as of today ({today.isoformat()}, {zone})",
        )
