"""A schedule's calendars resolved for use: which days are working days, and how long each is.

Project calendars inherit: a task or resource calendar names a base calendar and overrides some
weekdays and dates. :func:`resolve` follows that chain (own values win, a loop in the chain is cut)
into a :class:`WorkWeek`: working minutes per weekday and per exception date. That is what the
slack computation (:mod:`.network`) counts days with, and what the ``Project`` record carries so
reconcile counts variances in the schedule's own working days (holidays included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .schedule import Calendar, Schedule

#: Project's Standard calendar when a file has none: Monday-Friday, 8 hours
_STANDARD = (480, 480, 480, 480, 480, 0, 0)
#: exceptions further than this from the project's dates are not expanded (recurring holidays
#: are often entered "forever"; a report never counts days decades away)
_WINDOW = timedelta(days=5 * 366)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkWeek:
    """Working minutes per weekday (``date.weekday()``: Monday 0 … Sunday 6) and per exception date."""

    weekday_minutes: tuple[int, ...]
    exceptions: dict[date, int]
    name: str | None = None

    def minutes_on(self, day: date) -> int:
        found = self.exceptions.get(day)
        return self.weekday_minutes[day.weekday()] if found is None else found

    def is_working(self, day: date) -> bool:
        return self.minutes_on(day) > 0

    @property
    def nonworking_weekdays(self) -> tuple[int, ...]:
        return tuple(d for d, minutes in enumerate(self.weekday_minutes) if minutes == 0)

    @property
    def holidays(self) -> tuple[date, ...]:
        """Exception dates that are not worked although their weekday is."""
        return tuple(
            sorted(d for d, m in self.exceptions.items() if m == 0 and self.weekday_minutes[d.weekday()] > 0)
        )

    @property
    def extra_working_days(self) -> tuple[date, ...]:
        """Exception dates that are worked although their weekday is not (a working Saturday)."""
        return tuple(
            sorted(d for d, m in self.exceptions.items() if m > 0 and self.weekday_minutes[d.weekday()] == 0)
        )


def _chain(schedule: Schedule, uid: int) -> list[Calendar]:
    chain: list[Calendar] = []
    seen: set[int] = set()
    current = schedule.calendars.get(uid)
    while current is not None and current.uid not in seen:
        chain.append(current)
        seen.add(current.uid)
        base = current.base_uid
        current = schedule.calendars.get(base) if base is not None and base >= 0 else None
    return chain


def resolve(
    schedule: Schedule, uid: int | None, around: tuple[date | None, date | None] = (None, None)
) -> WorkWeek | None:
    """The calendar ``uid`` with what it inherits; ``None`` when the file has no such calendar.

    ``around`` (the project's start and finish) limits how far exceptions are expanded.
    """
    if uid is None:
        return None
    chain = _chain(schedule, uid)
    if not chain:
        return None
    minutes = list(_STANDARD)
    exceptions: dict[date, int] = {}
    low = around[0] - _WINDOW if around[0] is not None else None
    high = around[1] + _WINDOW if around[1] is not None else None
    for calendar in reversed(chain):  # the base first, so the calendar's own values win
        for day_type, day_minutes in calendar.minutes_by_day.items():
            minutes[(day_type - 2) % 7] = day_minutes  # MSPDI DayType 1 is Sunday
        for first, last, day_minutes in calendar.exceptions:
            start = max(first, low) if low is not None else first
            end = min(last, high) if high is not None else last
            day = start
            while day <= end:
                exceptions[day] = day_minutes
                day += _DAY
    return WorkWeek(tuple(minutes), exceptions, chain[0].name)


def project_work_week(schedule: Schedule) -> WorkWeek | None:
    """The project calendar (Project > Project Information > Calendar), resolved."""
    props = schedule.properties
    around = (
        props.start.date() if props.start is not None else None,
        props.finish.date() if props.finish is not None else None,
    )
    return resolve(schedule, props.calendar_uid, around)
