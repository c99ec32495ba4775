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


def test_a_worked_weekend_day_counts_and_a_schedule_calendar_wins() -> None:
    from pmsync.model import Project, SourceRef
    from pmsync.reconcile.calendar import calendar_note, schedule_calendar

    agency = WorkingCalendar([date(2026, 3, 9)])
    schedule = Project(
        source=SourceRef(system="msproject", instance="s", external_id="plan.xml"),
        project="P",
        key="P",
        name="P",
        nonworking_weekdays=(5, 6),
        holidays=(date(2026, 3, 11),),
        extra_working_days=(date(2026, 3, 7),),
    )
    cal = schedule_calendar([schedule], agency)
    # Mon 2 .. Fri 13 March 2026: 10 weekdays, + Sat 7 worked, - Mon 9 (agency), - Wed 11 (schedule)
    assert cal.count(date(2026, 3, 2), date(2026, 3, 13)) == 9
    assert cal.is_working_day(date(2026, 3, 7)) and not cal.is_working_day(date(2026, 3, 8))
    assert cal.add(date(2026, 3, 6), 1) == date(2026, 3, 7)
    assert cal.variance(date(2026, 3, 10), date(2026, 3, 13)) == 2
    note = calendar_note(cal, agency)
    assert note is not None and "plan.xml" in note and "2 holidays" in note
    # a project without a schedule calendar keeps the agency's, and says nothing
    plain = schedule.model_copy(update={"nonworking_weekdays": None})
    assert schedule_calendar([plain], agency) is agency and calendar_note(agency, agency) is None


def _item(calendar=None, finish=date(2026, 11, 18)):
    from pmsync.model import SourceRef, WorkItem

    source = SourceRef(system="msproject", instance="x", external_id="plan#1")
    return WorkItem(source=source, name="Pour", finish=finish, calendar=calendar)


def test_an_item_with_its_own_calendar_counts_in_it_with_the_agency_holidays():
    from pmsync.model import ItemCalendar

    agency = WorkingCalendar(holidays=[THANKSGIVING, date(2026, 11, 28)])  # the 28th: a Saturday
    seven = ItemCalendar(name="24 Hours", nonworking_weekdays=())
    own = agency.for_item(_item(seven))
    # Mon 23 .. Sun 29 on a seven-day calendar: 7 days less Thanksgiving and Saturday the 28th (an
    # agency closure binds a seven-day task too, although the agency's own weekend hid it)
    assert own.count(date(2026, 11, 23), date(2026, 11, 29)) == 5
    assert agency.for_item(_item()) is agency  # no own calendar: the schedule's
    worked = ItemCalendar(nonworking_weekdays=(5, 6), extra_working_days=(date(2026, 11, 28),))
    # a task calendar that explicitly works a day keeps it, whatever the agency closure
    assert agency.for_item(_item(worked)).is_working_day(date(2026, 11, 28))


def test_an_overdue_forecast_lands_on_a_day_the_items_calendar_works():
    from pmsync.model import ItemCalendar
    from pmsync.reconcile.figures import forecast_finish

    agency = WorkingCalendar(holidays=[THANKSGIVING])
    four_days = ItemCalendar(name="Four tens", nonworking_weekdays=(4, 5, 6))
    status = date(2026, 11, 27)  # Friday: not worked on Four tens, so Monday the 30th at the earliest
    assert forecast_finish(_item(four_days), status, status, agency.for_item(_item(four_days))) == date(
        2026, 11, 30
    )
    # on the Monday-Friday calendar Friday is worked: the status date itself, as before
    assert forecast_finish(_item(), status, status, agency) == status
    # status on Thanksgiving: the next working day of the item's calendar
    assert forecast_finish(_item(), THANKSGIVING, THANKSGIVING, agency) == status


def test_an_item_calendar_without_a_working_day_is_refused():
    from pydantic import ValidationError

    from pmsync.model import ItemCalendar

    with pytest.raises(ValidationError, match="at least one worked"):
        ItemCalendar(nonworking_weekdays=tuple(range(7)))
