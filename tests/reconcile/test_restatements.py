"""Restated actuals of a period already reported are found, with amount, month and lines."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pmsync import clock
from pmsync.model import CostLine, SourceRef
from pmsync.reconcile.restatements import restatements
from pmsync.report.changes import changes_of_restatements

D = Decimal
PREVIOUS = datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)
NOW = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)


def actual(ref: str, amount: str, day: str) -> CostLine:
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=ref),
        project="ERP",
        kind="actual",
        amount=D(amount),
        posting_date=date.fromisoformat(day),
    )


@pytest.fixture
def restated(store):
    """September's report saw August: INV-1 49,856.28, INV-2 10,000.00, and September: INV-3 5,000.00.
    In October finance reopens August: INV-1 (booked twice) is removed, INV-2 is corrected to 9,500.00,
    and INV-4 2,000.00 is back-dated into September. October's own INV-5 is not a restatement.
    August: before 59,856.28, after 9,500.00 → −50,356.28 (1 removed, 1 changed).
    September: before 5,000.00, after 7,000.00 → +2,000.00 (1 added)."""
    clock.set_now(datetime(2026, 9, 30, 18, tzinfo=UTC))
    with store.writer("ledger") as w:
        w.upsert([actual("INV-1", "49856.28", "2026-08-14"), actual("INV-2", "10000", "2026-08-20"),
                  actual("INV-3", "5000", "2026-09-10")])  # fmt: skip
    clock.set_now(datetime(2026, 10, 30, 18, tzinfo=UTC))
    with store.writer("ledger") as w:
        w.upsert([actual("INV-2", "9500", "2026-08-20"), actual("INV-4", "2000", "2026-09-25"),
                  actual("INV-5", "700", "2026-10-05")])  # fmt: skip
        w.mark_deleted([actual("INV-1", "49856.28", "2026-08-14")])
    yield store
    clock.set_now(None)


def test_restated_months_carry_amount_and_lines(restated):
    found = restatements(restated, "ERP", PREVIOUS, NOW, date(2026, 9, 30))
    assert [(r.period, r.before, r.after, r.amount) for r in found] == [
        ("2026-08", D("59856.28"), D("9500"), D("-50356.28")),
        ("2026-09", D("0"), D("2000"), D("2000")),
    ]
    assert found[0].removed == ["finance_file:ledger:INV-1"]
    assert found[0].changed == ["finance_file:ledger:INV-2"]
    assert found[1].added == ["finance_file:ledger:INV-4"]


def test_restatements_are_listed_as_changes_in_words(restated):
    changes = changes_of_restatements(
        "ERP", "USD", restatements(restated, "ERP", PREVIOUS, NOW, date(2026, 9, 30))
    )
    assert [c.kind for c in changes] == ["restatement", "restatement"]
    august = changes[0]
    assert (august.period, august.amount) == ("2026-08", D("-50356.28"))
    assert august.text == (
        "Actuals for 2026-08 restated since the last report: they fell by USD 50,356.28 (the lines "
        "concerned: USD 59,856.28 → 9,500.00; 1 line removed, 1 line changed: finance_file:ledger:INV-1, "
        "finance_file:ledger:INV-2)"
    )
    assert changes[1].text.startswith(
        "Actuals for 2026-09 restated since the last report: they rose by USD 2,000.00"
    )


def test_nothing_restated_means_no_change(restated):
    assert restatements(restated, "ERP", NOW, NOW, date(2026, 10, 31)) == []
