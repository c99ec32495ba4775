"""Baseline lifecycle in a real store: capture, approve (then immutable), re-baseline, diff, audit trail."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pmsync import clock
from pmsync.connector import Deleted
from pmsync.errors import ReconcileError
from pmsync.model import Baseline, BaselineItem, SourceRef, WorkItem
from pmsync.reconcile.baselines import BaselineRegister


def task(
    uid: str, finish: str, cost: str | None, system: str = "msproject", instance: str = "plan"
) -> WorkItem:
    return WorkItem(
        source=SourceRef(system=system, instance=instance, external_id=uid),
        project="ERP",
        name=f"task {uid}",
        start=date(2026, 11, 2),
        finish=date.fromisoformat(finish),
        cost=None if cost is None else Decimal(cost),
    )


def msproject_baseline0() -> list[Baseline | BaselineItem]:
    ref = SourceRef(system="msproject", instance="plan", external_id="erp.xml#baseline0")
    records: list[Baseline | BaselineItem] = [
        Baseline(source=ref, project="ERP", scope="plan:erp.xml", number=0, name="Baseline")
    ]
    for uid, finish in (("erp.xml#1", "2026-11-13"), ("erp.xml#2", "2026-11-20")):
        records.append(
            BaselineItem(
                source=SourceRef(system="msproject", instance="plan", external_id=f"{uid}#baseline0"),
                project="ERP",
                scope="plan:erp.xml",
                baseline_number=0,
                item=uid,
                start=date(2026, 11, 2),
                finish=date.fromisoformat(finish),
                cost=Decimal(1000),
            )
        )
    return records


@pytest.fixture
def seeded(store):
    with store.writer("plan") as w:
        w.upsert([task("erp.xml#1", "2026-11-13", "1000"), task("erp.xml#2", "2026-11-20", "2000")])
        w.upsert(msproject_baseline0())
    with store.writer("jira") as w:
        w.upsert([task("10012", "2026-11-27", None, system="jira", instance="jira-cloud")])
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    yield store
    clock.set_now(None)


def test_capture_approve_then_immutable(seeded):
    register = BaselineRegister(seeded, "ERP")
    baseline, count = register.capture()
    assert (baseline.number, count) == (1, 3)
    assert [b.source.key() for b in register.baselines()] == [
        "pmsync:baselines:ERP/1",
        "msproject:plan:erp.xml#baseline0",
    ]
    assert {i.item for i in register.items(baseline)} == {
        "msproject:plan:erp.xml#1",
        "msproject:plan:erp.xml#2",
        "jira:jira-cloud:10012",
    }
    approved = register.approve(1, by="CIO Board", reason="initial plan of record")
    assert approved.approved_by == "CIO Board" and approved.approved_at == datetime(
        2026, 11, 2, 9, tzinfo=UTC
    )
    with pytest.raises(ReconcileError) as err:
        register.approve(1, by="Someone", reason="tweak")
    message = str(err.value)
    assert (
        "baseline 1 of ERP was approved on 2026-11-02 by CIO Board; approved baselines never change"
        in message
    )
    assert "pmsync baseline rebaseline" in message
    assert register.get(1).reason == "initial plan of record"  # unchanged


def test_rebaseline_needs_a_change_request_and_is_in_the_audit_trail(seeded):
    register = BaselineRegister(seeded, "ERP")
    register.capture()
    register.approve(1, by="CIO Board", reason="initial plan of record")
    # the plan changes: task 2 slips a week and costs more, the Jira epic goes away, a task is added
    with seeded.writer("plan") as w:
        w.upsert([task("erp.xml#2", "2026-11-27", "2500"), task("erp.xml#3", "2026-12-04", "700")])
    with seeded.writer("jira") as w:
        w.mark_deleted(
            [Deleted("work_item", SourceRef(system="jira", instance="jira-cloud", external_id="10012"))]
        )
    clock.set_now(datetime(2026, 11, 20, 15, tzinfo=UTC))
    second, _ = register.capture()
    with pytest.raises(ReconcileError, match="re-baseline and needs the change request"):
        register.approve(second.number, by="CIO Board", reason="vendor delay")
    with pytest.raises(ReconcileError, match="change request"):
        register.rebaseline(by="CIO Board", reason="vendor delay", change_request=" ")
    register.approve(second.number, by="CIO Board", reason="vendor delay", change_request="CR-42")
    assert register.approved().number == 2

    diff = register.diff(1, 2)
    assert (diff.added, diff.removed, diff.moved, diff.cost_changed) == (1, 1, 1, 1)
    by_item = {c.item: c for c in diff.changes}
    moved = by_item["msproject:plan:erp.xml#2"]
    assert moved.change == "moved, cost changed"
    assert (
        moved.finish_moved_days == 5
        and moved.cost_before == Decimal(2000)
        and moved.cost_after == Decimal(2500)
    )
    assert by_item["msproject:plan:erp.xml#3"].change == "added"
    assert by_item["jira:jira-cloud:10012"].change == "removed"
    assert "msproject:plan:erp.xml#1" not in by_item
    assert (diff.cost_before, diff.cost_after) == (Decimal(3000), Decimal(4200))

    trail = [(e.action, e.number, e.by, e.reason, e.change_request, e.replaces) for e in register.history()]
    assert trail == [
        ("captured", 1, None, None, None, None),
        ("approved", 1, "CIO Board", "initial plan of record", None, None),
        ("captured", 2, None, None, None, None),
        ("rebaselined", 2, "CIO Board", "vendor delay", "CR-42", 1),
        ("imported", 0, None, None, None, None),  # MS Project Baseline 0: no capture date, listed last
    ]


def test_msproject_baseline_can_be_adopted_as_the_approved_baseline(seeded):
    register = BaselineRegister(seeded, "ERP")
    adopted = register.approve(
        "msproject:plan:erp.xml#baseline0", by="PMO", reason="use the schedule's baseline"
    )
    assert adopted.number == 1 and adopted.source.system == "pmsync"
    assert adopted.name == "Baseline from msproject:plan:erp.xml#baseline0"
    items = sorted((i.item, i.finish) for i in register.items(adopted))
    assert items == [
        ("msproject:plan:erp.xml#1", date(2026, 11, 13)),
        ("msproject:plan:erp.xml#2", date(2026, 11, 20)),
    ]
    # diff between the imported original and the adopted copy: nothing changed
    diff = register.diff("msproject:plan:erp.xml#baseline0", 1)
    assert diff.changes == []


def test_unknown_baseline_names_the_known_ones(seeded):
    register = BaselineRegister(seeded, "ERP")
    with pytest.raises(ReconcileError) as err:
        register.get(7)
    assert "known baselines: msproject:plan:erp.xml#baseline0" in str(err.value)
    with pytest.raises(ReconcileError, match="no work items"):
        BaselineRegister(seeded, "NOPE").capture()
