"""Valid-time reads (``Store.at``) on SQLite and PostgreSQL: what a record *was at its source* at a
status date, with what pmsync knew at a later moment — history rolled back, snapshots nearest the
status date, dated records by their own date, deletions after the status date not applied."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pmsync import clock
from pmsync.connector import Deleted
from pmsync.model import CostLine, FieldChange, SourceRef, WorkItem
from pmsync.store import Store

OCT_1 = datetime(2026, 10, 1, 9, tzinfo=UTC)
NOV_15 = datetime(2026, 11, 15, 23, 59, tzinfo=UTC)
NOV_20 = datetime(2026, 11, 20, 10, tzinfo=UTC)
NOV_30 = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
DEC_2 = datetime(2026, 12, 2, 9, tzinfo=UTC)
DEC_4 = datetime(2026, 12, 4, 9, tzinfo=UTC)
LATER = datetime(2026, 12, 10, tzinfo=UTC)


def view(store: Store, valid_at: datetime, known_at: datetime = LATER) -> Store:
    return store.at(known_at=known_at, valid_at=valid_at, valid_on=valid_at.date())


def issue(key: str, *, created: datetime, done_at: datetime | None = None) -> WorkItem:
    """A Jira-like item carrying its history: in progress since creation, done at ``done_at``."""
    history = (
        [
            FieldChange(at=done_at, field="status", before="In Progress"),
            FieldChange(at=done_at, field="status_category", before="in_progress"),
            FieldChange(at=done_at, field="actual_finish", before=None),
        ]
        if done_at
        else []
    )
    return WorkItem(
        source=SourceRef(system="jira", instance="jira", external_id=key),
        project="ERP",
        name=key,
        status="Done" if done_at else "In Progress",
        status_category="done" if done_at else "in_progress",
        actual_finish=done_at.date() if done_at else None,
        created_at=created,
        history=tuple(history),
    )


def task(n: int, percent: float) -> WorkItem:
    """A schedule task: its source keeps no history (snapshot only)."""
    return WorkItem(
        source=SourceRef(system="msproject", instance="plan", external_id=str(n)),
        project="ERP",
        name=f"Task {n}",
        percent_complete=percent,
    )


def line(ref: str, amount: int, posted: date) -> CostLine:
    return CostLine(
        source=SourceRef(system="finance_file", instance="finance", external_id=ref),
        project="ERP",
        kind="actual",
        amount=Decimal(amount),
        posting_date=posted,
    )


def write(store: Store, source: str, moment: datetime, *records: WorkItem | CostLine) -> None:
    clock.set_now(moment)
    with store.writer(source) as writer:
        writer.upsert(records)


def test_an_item_synced_in_december_is_rolled_back_through_its_history(store: Store) -> None:
    write(
        store,
        "jira",
        DEC_4,
        issue("ERP-1", created=OCT_1, done_at=NOV_20),
        issue("ERP-2", created=DEC_2),
    )
    mid = {w.name: w for w in view(store, NOV_15).iter_records(WorkItem)}
    assert list(mid) == ["ERP-1"]  # ERP-2 did not exist yet
    assert (mid["ERP-1"].status, mid["ERP-1"].status_category, mid["ERP-1"].actual_finish) == (
        "In Progress",
        "in_progress",
        None,
    )
    end = {w.name: w for w in view(store, NOV_30).iter_records(WorkItem)}
    assert end["ERP-1"].status_category == "done" and end["ERP-1"].actual_finish == date(2026, 11, 20)
    assert not list(view(store, datetime(2026, 9, 30, tzinfo=UTC)).iter_records(WorkItem))
    # the store's plain (recorded-time) reads are unchanged: nothing was known before December 4
    assert not list(store.iter_records(WorkItem, as_of=NOV_30))


def test_a_deletion_after_the_status_date_does_not_reach_back(store: Store) -> None:
    write(store, "jira", DEC_2, issue("ERP-1", created=OCT_1))
    clock.set_now(DEC_4)
    with store.writer("jira") as writer:
        writer.mark_deleted(
            [Deleted("work_item", SourceRef(system="jira", instance="jira", external_id="ERP-1"))]
        )
    assert [w.name for w in view(store, NOV_30).iter_records(WorkItem)] == ["ERP-1"]
    assert list(view(store, LATER - (LATER - DEC_4) / 2).iter_records(WorkItem)) == []


def test_a_snapshot_source_is_read_from_the_version_held_at_the_status_date(store: Store) -> None:
    write(store, "plan", OCT_1, task(1, 10.0))
    write(store, "plan", NOV_20, task(1, 40.0), task(2, 0.0))
    write(store, "plan", DEC_2, task(1, 90.0), task(2, 20.0))
    at_mid = view(store, NOV_15)
    assert {w.name: w.percent_complete for w in at_mid.iter_records(WorkItem)} == {"Task 1": 10.0}
    at_end = view(store, NOV_30)
    assert {w.name: w.percent_complete for w in at_end.iter_records(WorkItem)} == {
        "Task 1": 40.0,
        "Task 2": 0.0,
    }
    assert at_mid.valid_time is not None and at_mid.valid_time.notes.snapshot_after == {}


def test_a_snapshot_source_first_read_after_the_status_date_stands_in_and_says_so(store: Store) -> None:
    write(store, "plan", DEC_2, task(1, 90.0))
    write(store, "plan", DEC_4, task(1, 95.0))
    late = view(store, NOV_30)
    assert [w.percent_complete for w in late.iter_records(WorkItem)] == [90.0]  # the nearest snapshot
    assert late.valid_time is not None and late.valid_time.notes.snapshot_after == {"plan": DEC_2}


def test_cost_lines_count_from_their_posting_date_with_restatements_applied(store: Store) -> None:
    write(store, "finance", NOV_20, line("A1", 100, date(2026, 10, 31)), line("A2", 50, date(2026, 11, 30)))
    # December's export posts a December line and restates October: A1 is gone
    write(store, "finance", DEC_2, line("A2", 50, date(2026, 11, 30)), line("A3", 70, date(2026, 12, 1)))
    clock.set_now(DEC_2)
    with store.writer("finance") as writer:
        writer.mark_deleted([Deleted("cost_line", line("A1", 100, date(2026, 10, 31)).source)])
    november = view(store, NOV_30)
    assert sorted(c.source.external_id for c in november.iter_records(CostLine)) == ["A2"]
    # what was known on November 25 still had A1, and nothing of December
    before = view(store, NOV_30, known_at=datetime(2026, 11, 25, tzinfo=UTC))
    assert sorted(c.source.external_id for c in before.iter_records(CostLine)) == ["A1", "A2"]


@pytest.mark.parametrize("moment", [NOV_15, NOV_30])
def test_the_s_curve_reads_the_same_as_single_reads(store: Store, moment: datetime) -> None:
    write(store, "jira", DEC_4, issue("ERP-1", created=OCT_1, done_at=NOV_20), issue("ERP-2", created=DEC_2))
    write(store, "plan", OCT_1, task(1, 10.0))
    write(store, "plan", DEC_2, task(1, 90.0))
    seen = view(store, moment)
    single = {w.source.key(): w.status_category for w in seen.iter_records(WorkItem, project="ERP")}
    many = [versions[0] for versions in seen.records_at(WorkItem, "ERP", [moment]) if versions[0] is not None]
    assert {w.source.key(): w.status_category for w in many} == single
