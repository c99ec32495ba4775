"""Budget, actual, commitment and forecast per category and fiscal period, each period named by month.

The forecast column is a real forecast per period that adds up to the forecast at completion:

- a period on or before the status date's month is history: its forecast is what was spent there plus
  what is committed there (actuals + open commitments);
- when finance gives forecast lines, a later period's forecast is its forecast lines;
- otherwise the remaining forecast (forecast at completion − the history) is spread over the later
  periods in proportion to their budget: forecast = budget × (remaining forecast ÷ remaining budget),
  so a project forecast to overrun by 10 % of its remaining budget carries that 10 % in every later
  period. Remaining forecast with no later budget period to carry it is named in ``note``;
- without a forecast at completion, later periods have no forecast (the report leaves the column out).

Periods are labelled by calendar month (``2026-10``) from the lines' period or posting date, beside
the fiscal year and period number, which alone ("2026 / 4") nobody can read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pmsync.model import CostLine
from pmsync.reconcile.evm import money
from pmsync.reconcile.results import CostBreakdownRow
from pmsync.store import CostTotal, as_totals

ZERO = Decimal(0)
Key = tuple[str | None, int | None, int | None]


@dataclass(frozen=True)
class Phasing:
    rows: list[CostBreakdownRow]
    #: how the forecast column was made, in words ("" when there is no forecast column)
    rule: str


def _month(line: CostTotal) -> date | None:
    day = line.period or line.posting_date
    return None if day is None else day.replace(day=1)


def _order(item: tuple[Key, object]) -> tuple[str, int, int]:
    (category, year, period), _ = item
    return (category or "", year or 0, period or 0)


def phase_costs(
    lines: Sequence[CostLine | CostTotal], status_date: date, forecast: Decimal | None, currency: str
) -> Phasing:
    """One row per (category, fiscal year, fiscal period); actuals and commitments to the status date."""
    sums: dict[Key, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    months: dict[Key, date] = {}
    for line in as_totals(lines):
        day = line.posting_date or line.period
        if line.kind in ("actual", "commitment") and day is not None and day > status_date:
            continue
        key = (line.category, line.fiscal_year, line.fiscal_period)
        sums[key][line.kind] += line.amount
        month = _month(line)
        if month is not None and (key not in months or month < months[key]):
            months[key] = month
    this_month = status_date.replace(day=1)
    has_finance_forecast = any(v["forecast"] for v in sums.values())

    def later(key: Key) -> bool:
        return key in months and months[key] > this_month

    history = sum((v["actual"] + v["commitment"] for k, v in sums.items() if not later(k)), ZERO)
    future_budget = sum((v["budget"] for k, v in sums.items() if later(k)), ZERO)
    factor: Decimal | None = None
    rule = ""
    if has_finance_forecast:
        rule = "history: actual + committed; later periods: finance forecast lines"
    elif forecast is not None:
        remaining = max(forecast - history, ZERO)
        if future_budget:
            factor = remaining / future_budget
            rule = (
                f"history (to {status_date:%Y-%m}): actual + committed; later periods: budget × "
                f"{factor:.4f} (remaining forecast {currency} {remaining:,.2f} ÷ remaining budget "
                f"{currency} {future_budget:,.2f}), so the periods add up to the forecast at completion"
            )
        else:
            rule = (
                "history: actual + committed; no later budget period carries the remaining "
                f"{currency} {remaining:,.2f}"
            )
    rows = []
    for key, v in sorted(sums.items(), key=_order):
        category, year, period = key
        month = months.get(key)
        if not later(key):
            value: Decimal | None = v["actual"] + v["commitment"]
        elif has_finance_forecast:
            value = v["forecast"]
        else:
            value = None if factor is None else money(v["budget"] * factor)
        rows.append(
            CostBreakdownRow(
                category=category,
                fiscal_year=year,
                fiscal_period=period,
                month=None if month is None else f"{month:%Y-%m}",
                budget=v["budget"],
                actual=v["actual"],
                commitment=v["commitment"],
                forecast=ZERO if value is None else value,
                forecast_known=value is not None and bool(rule),
            )
        )
    return Phasing(rows, rule)
