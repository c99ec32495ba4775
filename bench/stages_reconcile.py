"""Reconcile benchmark stages: pure computations (EVM curve, DCMA checks) and measures from a store.

The store stages seed a SQLite store in ``prepare_*`` (not timed): one project with ``size`` MS
Project tasks in a finish-to-start chain spread over a year, an approved baseline, and ``size``
finance actuals; then time what a report run and a baseline capture cost for that project.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pmsync import clock
from pmsync.config import ProjectConfig
from pmsync.model import BaselineItem, CostLine, Dependency, SourceRef, WorkItem
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.evm import month_ends, weighted_planned_curve
from pmsync.reconcile.health import assess_schedule
from pmsync.reconcile.measures import measure_project
from pmsync.store import Store

START = date(2026, 1, 5)
STATUS = date(2026, 9, 30)
PROJECT = ProjectConfig(
    key="BIG", name="Benchmark project", tier="large", approved_budget=Decimal(10_000_000)
)


def _tasks(size: int) -> Iterator[WorkItem]:
    """A chain of tasks, a few days each and overlapping, spread over about a year."""
    for i in range(size):
        start = START + timedelta(days=(i * 365) // max(size, 1))
        finish = start + timedelta(days=6)
        done = finish < STATUS
        yield WorkItem(
            source=SourceRef(system="msproject", instance="plan", external_id=f"big.xml#{i}"),
            project="BIG",
            scope="plan:big.xml",
            key=str(i),
            name=f"Task {i}",
            start=start,
            finish=finish,
            cost=Decimal(1000 + i % 500),
            percent_complete=100.0 if done else float(i % 60),
            status_category="done" if done else "in_progress",
            actual_finish=finish if done else None,
            resources=("Ann",),
            predecessors=(Dependency(predecessor=f"big.xml#{i - 1}"),) if i else (),
            total_slack_days=0.0,
            critical=True,
        )


def _actuals(size: int) -> Iterator[CostLine]:
    for i in range(size):
        yield CostLine(
            source=SourceRef(system="finance_file", instance="ledger", external_id=f"L{i}"),
            project="BIG",
            kind="actual",
            amount=Decimal(900 + i % 300),
            posting_date=START + timedelta(days=(i * 260) // max(size, 1)),
            category="Contractors",
            task_code=f"BIG.{i % 20}",
        )


def _baseline_items(size: int) -> list[BaselineItem]:
    return [
        BaselineItem(
            source=SourceRef(system="pmsync", instance="baselines", external_id=f"BIG/1/{t.source.key()}"),
            baseline_number=1,
            item=t.source.key(),
            start=t.start,
            finish=t.finish,
            cost=t.cost,
        )
        for t in _tasks(size)
    ]


def evm_curve(size: int, workdir: Path) -> dict[str, int]:
    items = _baseline_items(size)
    ends = month_ends(START, date(2027, 1, 31))
    # the cost-weighted curve, as measures spread a cost basis
    weighted_planned_curve([(i, i.cost or Decimal(0)) for i in items], ends, WorkingCalendar())
    return {"items": size, "periods": len(ends)}


def dcma_checks(size: int, workdir: Path) -> dict[str, int]:
    tasks = list(_tasks(size))
    health = assess_schedule(tasks, status_date=STATUS, schedule_name="bench")
    return {"items": size, "findings": sum(c.flagged for c in health.checks)}


def _store_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'reconcile.db'}"


def _seed(size: int, workdir: Path, approve: bool) -> None:
    clock.set_now(datetime(2026, 1, 2, tzinfo=UTC))
    with Store.open(_store_url(workdir)) as store:
        with store.writer("plan") as w:
            w.upsert(_tasks(size))
        with store.writer("ledger") as w:
            w.upsert(_actuals(size))
        if approve:
            register = BaselineRegister(store, "BIG")
            register.capture()
            register.approve(1, by="bench", reason="bench")
    clock.set_now(None)


def prepare_project_measures(size: int, workdir: Path) -> None:
    _seed(size, workdir, approve=True)


def project_measures(size: int, workdir: Path) -> dict[str, int]:
    with Store.open(_store_url(workdir)) as store:
        measures = measure_project(store, PROJECT, STATUS)
    points = len(measures.evm.s_curve) if measures.evm else 0
    return {"items": size, "s_curve_points": points}


def prepare_baseline_capture(size: int, workdir: Path) -> None:
    _seed(size, workdir, approve=False)


def baseline_capture(size: int, workdir: Path) -> dict[str, int]:
    with Store.open(_store_url(workdir)) as store:
        _, count = BaselineRegister(store, "BIG").capture()
    return {"items": count}


STAGES = [
    (
        "reconcile: timephased PV curve (items x 13 months)",
        evm_curve,
        [5000, 10000, 20000, 40000],
        [500, 1000],
    ),
    ("reconcile: DCMA 14-point checks", dcma_checks, [2500, 5000, 10000, 20000], [500, 1000]),
    (
        "reconcile: measures of one project from the store",
        project_measures,
        [1000, 2000, 4000, 8000],
        [200, 400],
    ),
    ("reconcile: baseline capture", baseline_capture, [1000, 2000, 4000, 8000], [200, 400]),
]
