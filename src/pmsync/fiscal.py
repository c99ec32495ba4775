"""Fiscal calendar: which fiscal year and period a date belongs to.

Governments label a fiscal year by the calendar year in which it *ends*: with a July start (most US
states) FY2027 runs 2026-07-01 .. 2027-06-30; with an October start (US federal) FY2027 runs
2026-10-01 .. 2027-09-30. Period 1 is the first month of the fiscal year. A January start makes the
fiscal year the calendar year. Some jurisdictions label by the starting year instead; pass
``label="start"`` for those.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, NamedTuple

YearLabel = Literal["end", "start"]


class FiscalPeriod(NamedTuple):
    year: int
    period: int


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1..12, not {start_month}")


def fiscal_period(day: date, start_month: int = 1, *, label: YearLabel = "end") -> FiscalPeriod:
    """The fiscal year and period (1..12) of ``day``."""
    _check_month(start_month)
    period = (day.month - start_month) % 12 + 1
    # the calendar year in which this fiscal year started
    starting_year = day.year if day.month >= start_month else day.year - 1
    if label == "start" or start_month == 1:
        return FiscalPeriod(starting_year, period)
    return FiscalPeriod(starting_year + 1, period)


def fiscal_year_start(year: int, start_month: int = 1, *, label: YearLabel = "end") -> date:
    """The first day of fiscal year ``year``."""
    _check_month(start_month)
    starting_year = year if label == "start" or start_month == 1 else year - 1
    return date(starting_year, start_month, 1)


def period_start(year: int, period: int, start_month: int = 1, *, label: YearLabel = "end") -> date:
    """The first day of the calendar month that is fiscal ``period`` (1..12) of fiscal ``year``."""
    if not 1 <= period <= 12:
        raise ValueError(f"fiscal period must be 1..12, not {period}")
    first = fiscal_year_start(year, start_month, label=label)
    months = first.month - 1 + period - 1
    return date(first.year + months // 12, months % 12 + 1, 1)
