"""Working-day arithmetic, checked against a wall calendar (November 2026: the 1st is a Sunday)."""

from datetime import date

import pytest

from pmsync.reconcile.calendar import WorkingCalendar

THANKSGIVING = date(2026, 11, 26)


def test_counts_weekdays_in_a_closed_range():
    cal = WorkingCalendar()
    assert cal.count(date(2026, 11, 2), date(2026, 11, 6)) == 5  # Mon..Fri
    assert cal.count(date(2026, 11, 1), date(2026, 11, 30)) == 21
    assert cal.count(date(2026, 11, 7), date(2026, 11, 8)) == 0  # a weekend
    assert cal.count(date(2026, 11, 6), date(2026, 11, 2)) == 0


def test_holidays_are_not_working_days():
    cal = WorkingCalendar(holidays=[THANKSGIVING, date(2026, 11, 28)])  # the 28th is a Saturday
    assert not cal.is_working_day(THANKSGIVING)
    assert cal.count(date(2026, 11, 1), date(2026, 11, 30)) == 20
    assert cal.holidays == (THANKSGIVING,)


def test_variance_is_signed_and_skips_weekends():
    cal = WorkingCalendar()
    friday, monday = date(2026, 11, 6), date(2026, 11, 9)
    assert cal.variance(friday, monday) == 1
    assert cal.variance(monday, friday) == -1
    assert cal.variance(friday, date(2026, 11, 7)) == 0  # Saturday: no working day lost
    assert cal.variance(friday, friday) == 0
    assert cal.variance(date(2026, 11, 2), date(2026, 11, 30)) == 20


def test_add_matches_counting_over_long_spans():
    cal = WorkingCalendar(holidays=[THANKSGIVING, date(2026, 12, 25), date(2027, 1, 1)])
    start = date(2026, 11, 4)
    for n in (0, 1, 4, 5, 17, 44, 250):
        later = cal.add(start, n)
        assert cal.variance(start, later) == n
        assert cal.add(later, -n) == start or not cal.is_working_day(start)
        assert n == 0 or cal.is_working_day(later)


def test_custom_weekend():
    cal = WorkingCalendar(weekend=[4, 5])  # Friday and Saturday
    assert cal.count(date(2026, 11, 1), date(2026, 11, 7)) == 5
    with pytest.raises(ValueError):
        WorkingCalendar(weekend=range(7))
