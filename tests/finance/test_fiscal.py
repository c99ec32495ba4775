from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmsync.fiscal import FiscalPeriod, fiscal_period, fiscal_year_start, period_start


@pytest.mark.parametrize(
    ("day", "start_month", "expected"),
    [
        # a July start (most US states): FY2027 starts 2026-07-01
        (date(2026, 7, 1), 7, FiscalPeriod(2027, 1)),
        (date(2026, 6, 30), 7, FiscalPeriod(2026, 12)),
        (date(2027, 1, 15), 7, FiscalPeriod(2027, 7)),
        # US federal: FY2027 starts 2026-10-01
        (date(2026, 10, 1), 10, FiscalPeriod(2027, 1)),
        (date(2026, 9, 30), 10, FiscalPeriod(2026, 12)),
        # a January start is the calendar year
        (date(2026, 3, 3), 1, FiscalPeriod(2026, 3)),
        (date(2026, 12, 31), 1, FiscalPeriod(2026, 12)),
    ],
)
def test_government_fiscal_year_labels(day: date, start_month: int, expected: FiscalPeriod) -> None:
    assert fiscal_period(day, start_month) == expected


def test_fiscal_year_starts_where_governments_say() -> None:
    assert fiscal_year_start(2027, 7) == date(2026, 7, 1)
    assert fiscal_year_start(2027, 10) == date(2026, 10, 1)
    assert fiscal_year_start(2027, 1) == date(2027, 1, 1)
    assert fiscal_year_start(2026, 4, label="start") == date(2026, 4, 1)


def test_bad_start_month_is_refused() -> None:
    with pytest.raises(ValueError, match="1..12"):
        fiscal_period(date(2026, 1, 1), 13)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2200, 12, 31)), st.integers(1, 12))
def test_period_start_inverts_fiscal_period(day: date, start_month: int) -> None:
    year, period = fiscal_period(day, start_month)
    assert 1 <= period <= 12
    first = period_start(year, period, start_month)
    assert first == day.replace(day=1)
    assert fiscal_year_start(year, start_month) <= day
