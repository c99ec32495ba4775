"""Working days: weekends plus configurable holidays, or a schedule's own calendar.

Variances are reported in working days because that is how schedules are built and how committees
read a slip ("the go-live moved 5 working days"). Counting is arithmetic, not a day-by-day loop, so a
ten-year span costs the same as a week: whole weeks are counted at once and holidays are found with a
binary search.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from pmsync.model import ItemCalendar, Project, WorkItem

_DAY = timedelta(days=1)


class WorkingCalendar:
    """Which dates are working days.

    ``weekend`` holds ISO weekday numbers minus one (``date.weekday()``: Monday 0 … Sunday 6);
    the default is Saturday and Sunday. ``holidays`` that fall on a weekend are ignored.
    """

    def __init__(
        self,
        holidays: Iterable[date] = (),
        weekend: Iterable[int] = (5, 6),
        extra_working: Iterable[date] = (),
        source: str | None = None,
        imposed: Iterable[date] | None = None,
    ) -> None:
        holidays = tuple(holidays)
        self.weekend = frozenset(weekend)
        if not self.weekend <= set(range(7)) or len(self.weekend) == 7:
            raise ValueError("weekend must be a proper subset of weekdays 0 (Monday) .. 6 (Sunday)")
        self.holidays: tuple[date, ...] = tuple(
            sorted({d for d in holidays if d.weekday() not in self.weekend})
        )
        #: weekend dates that are worked (a schedule's working Saturday)
        self.extra_working: tuple[date, ...] = tuple(
            sorted({d for d in extra_working if d.weekday() in self.weekend})
        )
        #: where the calendar comes from, for notes ("the schedule's calendar 'Standard'")
        self.source = source
        #: holidays that bind every item whatever its own calendar: the governance (agency) ones
        #: (``holidays`` themselves unless given), kept whatever their weekday so a seven-day task
        #: calendar gets a Saturday closure too
        self.imposed: tuple[date, ...] = tuple(sorted(set(holidays if imposed is None else imposed)))
        self._per_week = 7 - len(self.weekend)
        self._items: dict[ItemCalendar, WorkingCalendar] = {}

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(weekend={sorted(self.weekend)}, holidays={len(self.holidays)}, "
            f"extra_working={len(self.extra_working)})"
        )

    def is_working_day(self, day: date) -> bool:
        if day.weekday() in self.weekend:
            return _holds(self.extra_working, day)
        return not _holds(self.holidays, day)

    def count(self, first: date, last: date) -> int:
        """Working days in the closed range ``[first, last]``; 0 when ``last < first``."""
        if last < first:
            return 0
        days = (last - first).days + 1
        weeks, rest = divmod(days, 7)
        total = weeks * self._per_week
        start_weekday = first.weekday()
        total += sum(1 for offset in range(rest) if (start_weekday + offset) % 7 not in self.weekend)
        total -= bisect_right(self.holidays, last) - bisect_left(self.holidays, first)
        total += bisect_right(self.extra_working, last) - bisect_left(self.extra_working, first)
        return total

    def variance(self, baseline: date, current: date) -> int:
        """Signed working days from ``baseline`` to ``current``: positive when ``current`` is later.

        Moving a Friday finish to the next Monday is a 1-day slip; moving it to Saturday is 0 (the
        work still ends with Friday's working day).
        """
        if current >= baseline:
            return self.count(baseline + _DAY, current)
        return -self.count(current + _DAY, baseline)

    def add(self, day: date, working_days: int) -> date:
        """The date ``working_days`` working days after ``day`` (before it when negative)."""
        step = _DAY if working_days >= 0 else -_DAY
        remaining = abs(working_days)
        # Jump whole weeks first so long spans stay cheap, then walk the remainder.
        if remaining > 2 * self._per_week:
            weeks = remaining // self._per_week - 1
            candidate = day + step * 7 * weeks
            low, high = (day + _DAY, candidate) if step > timedelta(0) else (candidate, day - _DAY)
            counted = self.count(low, high)
            day, remaining = candidate, remaining - counted
        while remaining > 0:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def for_item(self, item: WorkItem) -> WorkingCalendar:
        """The calendar ``item``'s own working days are counted in: its own calendar (MS Project's
        task calendar) with the governance holidays it does not explicitly work, else this one.

        This is MS Project's rule (and MPXJ's "effective calendar"): a task with its own calendar
        is scheduled on it, so its finish variance and duration are in its working days."""
        own = item.calendar
        if own is None:
            return self
        found = self._items.get(own)
        if found is None:
            worked = set(own.extra_working_days)
            found = WorkingCalendar(
                set(own.holidays) | {d for d in self.imposed if d not in worked},
                own.nonworking_weekdays,
                extra_working=worked,
                source=f"the task calendar {own.name!r}" if own.name else "a task calendar",
                imposed=self.imposed,
            )
            self._items[own] = found
        return found

    def next_working_day(self, day: date) -> date:
        """``day`` when it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add(day, 1)

    def duration(self, start: date, finish: date) -> int:
        """Working days a task spanning ``[start, finish]`` occupies (0 for a milestone on a weekend)."""
        return self.count(start, finish)


def _holds(days: tuple[date, ...], day: date) -> bool:
    index = bisect_left(days, day)
    return index < len(days) and days[index] == day


def schedule_calendar(projects: Iterable[Project], agency: WorkingCalendar) -> WorkingCalendar:
    """The working calendar of a project's schedule, where its source carries one; else ``agency``.

    A schedule's own calendar (MS Project's project calendar: its working week, holidays and worked
    weekend days) is how the plan was built, so its slips are counted in its days. The agency's
    holidays still apply (an office closure is not worked whatever the file says), except on a day
    the schedule explicitly works. With several schedule files in one project, the first by source
    id is used, so the choice is the same on every run.
    """
    with_calendar = sorted(
        (p for p in projects if p.nonworking_weekdays is not None), key=lambda p: p.source.key()
    )
    if not with_calendar:
        return agency
    chosen = with_calendar[0]
    assert chosen.nonworking_weekdays is not None
    worked = set(chosen.extra_working_days)
    holidays = set(chosen.holidays) | {d for d in agency.holidays if d not in worked}
    return WorkingCalendar(
        holidays,
        chosen.nonworking_weekdays,
        extra_working=worked,
        source=f"the schedule calendar of {chosen.source.key()}",
        imposed=agency.imposed,
    )


def calendar_note(used: WorkingCalendar, agency: WorkingCalendar) -> str | None:
    """A report note when working days are not the governance calendar's; ``None`` when they are."""
    if used is agency or (
        used.weekend == agency.weekend and used.holidays == agency.holidays and not used.extra_working
    ):
        return None
    weekdays = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    worked = ", ".join(d for i, d in enumerate(weekdays) if i not in used.weekend)
    return (
        f"working days are counted with {used.source or 'the schedule calendar'}: {worked}, "
        f"{len(used.holidays)} holidays, {len(used.extra_working)} worked weekend days "
        "(the governance calendar's holidays included)"
    )


def item_calendars_note(items: Iterable[WorkItem]) -> str | None:
    """A report note naming the items' own calendars, when any item has one; ``None`` otherwise."""
    named = Counter(item.calendar.name or "unnamed" for item in items if item.calendar is not None)
    if not named:
        return None
    total = sum(named.values())
    listed = ", ".join(f"{name!r} ({count})" for name, count in sorted(named.items()))
    return (
        f"{total} {'item is' if total == 1 else 'items are'} scheduled on {'its' if total == 1 else 'their'} "
        f"own calendar, so {'its' if total == 1 else 'their'} slips, forecasts and DCMA durations are "
        f"counted in it: {listed}; resource calendars are not used"
    )
