"""Working days: weekends plus configurable holidays.

Variances are reported in working days because that is how schedules are built and how committees
read a slip ("the go-live moved 5 working days"). Counting is arithmetic, not a day-by-day loop, so a
ten-year span costs the same as a week: whole weeks are counted at once and holidays are found with a
binary search.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta

_DAY = timedelta(days=1)


class WorkingCalendar:
    """Which dates are working days.

    ``weekend`` holds ISO weekday numbers minus one (``date.weekday()``: Monday 0 … Sunday 6);
    the default is Saturday and Sunday. ``holidays`` that fall on a weekend are ignored.
    """

    def __init__(self, holidays: Iterable[date] = (), weekend: Iterable[int] = (5, 6)) -> None:
        self.weekend = frozenset(weekend)
        if not self.weekend <= set(range(7)) or len(self.weekend) == 7:
            raise ValueError("weekend must be a proper subset of weekdays 0 (Monday) .. 6 (Sunday)")
        self.holidays: tuple[date, ...] = tuple(
            sorted({d for d in holidays if d.weekday() not in self.weekend})
        )
        self._per_week = 7 - len(self.weekend)

    def __repr__(self) -> str:
        return f"WorkingCalendar(weekend={sorted(self.weekend)}, holidays={len(self.holidays)})"

    def is_working_day(self, day: date) -> bool:
        if day.weekday() in self.weekend:
            return False
        index = bisect_left(self.holidays, day)
        return not (index < len(self.holidays) and self.holidays[index] == day)

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

    def duration(self, start: date, finish: date) -> int:
        """Working days a task spanning ``[start, finish]`` occupies (0 for a milestone on a weekend)."""
        return self.count(start, finish)
