"""A real forecast per fiscal period, adding up to the forecast at completion, labelled by month."""

from datetime import date
from decimal import Decimal

from pmsync.model import CostLine, SourceRef
from pmsync.reconcile.phasing import phase_costs

D = Decimal


def line(kind: str, amount: str, month: int, day: int = 15) -> CostLine:
    when = date(2026, month, day)
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=f"{kind}-{month}-{amount}"),
        project="P",
        kind=kind,  # type: ignore[arg-type]
        amount=D(amount),
        period=when.replace(day=1),
        posting_date=when,
        category="Contractors",
        fiscal_year=2027,
        fiscal_period=month - 6,  # July start
    )


LINES = [
    *(line("budget", "100", m, 1) for m in (8, 9, 10, 11, 12)),
    line("actual", "120", 8),
    line("actual", "90", 9),
    line("commitment", "30", 9, 20),
    line("actual", "50", 10),  # after the status date: not counted yet
]


def test_history_then_the_remaining_forecast_spread_by_budget():
    """Status 2026-09-30, forecast at completion 600. History: Aug 120, Sep 90 + 30 committed = 120 →
    240. Remaining 600 − 240 = 360 over the remaining budget Oct-Dec 300: × 1.2 → 120 a month.
    The periods add up to 600; each is labelled by its month."""
    phasing = phase_costs(LINES, date(2026, 9, 30), D(600), "USD")
    rows = [(r.month, r.fiscal_period, r.actual, r.commitment, r.forecast) for r in phasing.rows]
    assert rows == [
        ("2026-08", 2, D(120), D(0), D(120)),
        ("2026-09", 3, D(90), D(30), D(120)),
        ("2026-10", 4, D(0), D(0), D("120.00")),
        ("2026-11", 5, D(0), D(0), D("120.00")),
        ("2026-12", 6, D(0), D(0), D("120.00")),
    ]
    assert sum(r.forecast for r in phasing.rows) == D(600)
    assert all(r.forecast_known for r in phasing.rows)
    assert "budget × 1.2000 (remaining forecast USD 360.00 ÷ remaining budget USD 300.00)" in phasing.rule


def test_without_a_forecast_there_is_no_forecast_column():
    phasing = phase_costs(LINES, date(2026, 9, 30), None, "USD")
    assert phasing.rule == "" and not any(r.forecast_known for r in phasing.rows)
