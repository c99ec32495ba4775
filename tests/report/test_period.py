"""The reporting calendar: periods, status dates and close windows in the agency's own time zone,
across daylight-saving changes and for a zone ahead of UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pmsync.config import ReportingConfig
from pmsync.errors import ConfigError
from pmsync.report.period import Period, ReportingCalendar


def calendar(**settings: object) -> ReportingCalendar:
    return ReportingCalendar(ReportingConfig.model_validate(settings))


def test_a_month_and_a_quarter_parse_and_step() -> None:
    assert Period.parse("2026-11").label == "2026-11"
    q4 = Period.parse("2026-q4")
    assert (q4.label, q4.start, q4.end) == ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert q4.next().label == "2027-Q1" and q4.previous().label == "2026-Q3"
    assert Period.parse("2027-01").previous().label == "2026-12"
    with pytest.raises(ConfigError, match="YYYY-MM"):
        Period.parse("2026-13")


def test_the_period_must_match_the_cadence() -> None:
    with pytest.raises(ConfigError, match="quarterly"):
        calendar(cadence="quarterly").parse("2026-11")
    with pytest.raises(ConfigError, match="monthly"):
        calendar().parse("2026-Q4")


def test_status_date_rules() -> None:
    october = Period.parse("2026-10")  # October 31, 2026 is a Saturday
    assert calendar().status_date(october) == date(2026, 10, 31)
    assert calendar(status_date="last_working_day").status_date(october) == date(2026, 10, 30)
    # a holiday on the last working day moves it back once more
    holiday = calendar(status_date="last_working_day", holidays=["2026-10-30"])
    assert holiday.status_date(october) == date(2026, 10, 29)
    assert calendar(status_date=31).status_date(Period.parse("2027-02")) == date(2027, 2, 28)
    assert calendar(status_date=25).status_date(
        Period.parse(
            "2026-Q4",
        )
    ) == date(2026, 12, 25)


def test_status_moments_are_the_end_of_the_local_day_across_daylight_saving() -> None:
    new_york = calendar(time_zone="America/New_York")
    # October 31 is still daylight time (UTC-4); November 30 is standard time (UTC-5)
    assert new_york.status_moment(Period.parse("2026-10")) == datetime(2026, 11, 1, 3, 59, 59, 999999, UTC)
    assert new_york.status_moment(Period.parse("2026-11")) == datetime(2026, 12, 1, 4, 59, 59, 999999, UTC)
    # March 2027: clocks went forward on March 14; March 31 ends at 04:00 UTC the next day
    assert new_york.status_moment(Period.parse("2027-03")) == datetime(2027, 4, 1, 3, 59, 59, 999999, UTC)


def test_a_zone_ahead_of_utc_closes_its_period_before_utc_does() -> None:
    auckland = calendar(time_zone="Pacific/Auckland")  # UTC+13 in summer
    moment = auckland.status_moment(Period.parse("2026-11"))
    assert moment == datetime(2026, 11, 30, 10, 59, 59, 999999, UTC)
    # 2026-11-30 12:00 UTC is already December 1 in Auckland: November has closed there
    assert auckland.local_date(datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == date(2026, 12, 1)
    choice = auckland.default_period(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert choice.period.label == "2026-11" and "2026-11 closed on 2026-11-30" in choice.reason
    in_utc = calendar().default_period(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert in_utc.period.label == "2026-11" and "the current period 2026-11" in in_utc.reason


def test_the_close_window_decides_the_default_period() -> None:
    cal = calendar(time_zone="America/Los_Angeles", close_working_days=10)
    november = Period.parse("2026-11")
    assert cal.close_deadline(november) == date(2026, 12, 14)  # Dec 1-4, 7-11, 14
    on_the_4th = cal.default_period(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
    assert on_the_4th.period == november and "within its close window until 2026-12-14" in on_the_4th.reason
    # 2026-12-15 07:59 UTC is still December 14 in Los Angeles
    assert cal.default_period(datetime(2026, 12, 15, 7, 59, tzinfo=UTC)).period == november
    after = cal.default_period(datetime(2026, 12, 15, 8, 0, tzinfo=UTC))
    assert after.period.label == "2026-12" and "close window ended on 2026-12-14" in after.reason
    assert (
        calendar(close_working_days=0).default_period(datetime(2026, 12, 1, tzinfo=UTC)).period.label
        == "2026-12"
    )


def test_a_quarterly_agency_reports_the_closed_quarter_in_early_january() -> None:
    cal = calendar(cadence="quarterly", close_working_days=15, holidays=["2027-01-01"])
    choice = cal.default_period(datetime(2027, 1, 12, 12, 0, tzinfo=UTC))
    assert choice.period.label == "2026-Q4"
    assert cal.close_deadline(choice.period) == date(2027, 1, 22)  # 15 working days, New Year's Day off


def test_an_unknown_time_zone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        ReportingConfig.model_validate({"time_zone": "Pacific Standard Time"})
