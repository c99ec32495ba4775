"""Earned value for baselines without cost (Jira, Planner, Dataverse), and forecast finishes a
committee can believe. Calendar: weekends only. Baselines are captured and approved on Mon 2026-11-02.

Project DATA (Jira, medium tier, approved budget 100,000), status date Wed 2026-11-18:

    S1  10-26..11-06  40 h  done                       -> earns 100 %
    S2  11-09..11-20  80 h  in progress, no percentage -> earns 50 % (the 0/50/100 rule)
    S3  11-23..11-27  40 h  not started                -> earns 0 %
    S4  start 11-02, no finish, no hours              -> cannot be time-phased: carries no value

    Every item with a baseline finish has work hours, so BAC is spread by hours (total 160 h):
    PV  = 100,000 × (S1 40 + S2 80 × 8/10 (11-09..11-18 = 8 of 10 working days) + S3 0) / 160
        = 100,000 × 104 / 160 = 65,000
    EV  = 100,000 × (40 × 100 % + 80 × 50 % + 40 × 0 %) / 160 = 100,000 × 80 / 160 = 50,000
    AC  = finance actuals to 11-18: 30,000 (11-05) + 25,000 (11-12) = 55,000 (10,000 on 11-20 is later)
    SPI = 50,000 / 65,000 = 0.769; CPI = 50,000 / 55,000 = 0.909
    EAC = BAC / CPI = 100,000 × 55,000 / 50,000 = 110,000 = the forecast; VAC = −10,000 (10 % over)
    S-curve: 10-31 is before the store knew anything of DATA (first sync 11-02), so its EV is unknown
    (None, not 0); its PV = 100,000 × S1 40 × 5/10 (10-26..10-30 of 10 working days) / 160 = 12,500,
    AC 0. 11-18: as above. 11-30: PV = BAC (all planned), the future has no EV or AC.
    Cost (medium tier): overrun 10 % → amber (amber from 10 %); CPI 0.909 → amber (below 0.95,
    not below 0.90) → amber.

Project PLN (Planner, no approved budget; finance budget lines 20,000 + 12,000 = 32,000), no work
hours, so BAC is spread by baseline working days:

    T1  11-02..11-06   5 days  done (Planner 100 %), but its completion is stamped 2026-12-15
    T2  11-09..11-20  10 days  Planner 50 %
    M   11-20          1 day   milestone, 0 %
    Total 16 days, 32,000 / 16 = 2,000 per day. At Wed 11-18:
    PV = 2,000 × (5 + 10 × 8/10 + 0) = 26,000;  EV = 2,000 × (5 × 100 % + 10 × 50 %) = 20,000.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pmsync import clock
from pmsync.config import PmsyncConfig
from pmsync.model import CostLine, SourceRef, WorkItem
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.reconcile.governance import load_governance
from pmsync.reconcile.measures import measure_project

D = Decimal
STATUS = date(2026, 11, 18)
AS_OF = datetime(2026, 11, 18, 23, tzinfo=UTC)
CONFIG = PmsyncConfig.model_validate(
    {
        "projects": [
            {"key": "DATA", "name": "Data platform", "tier": "medium", "approved_budget": 100000},
            {"key": "PLN", "name": "Device rollout", "tier": "small"},
        ]
    }
)
GOVERNANCE = load_governance(CONFIG.governance)


def work(
    project: str, system: str, key: str, start: str | None, finish: str | None, **fields: object
) -> WorkItem:
    return WorkItem(
        source=SourceRef(system=system, instance=system, external_id=key),
        project=project,
        key=key,
        name=f"item {key}",
        start=None if start is None else date.fromisoformat(start),
        finish=None if finish is None else date.fromisoformat(finish),
        **fields,  # type: ignore[arg-type]
    )


def money(project: str, kind: str, amount: str, day: str) -> CostLine:
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=f"{project}-{kind}-{day}"),
        project=project,
        kind=kind,  # type: ignore[arg-type]
        amount=D(amount),
        posting_date=date.fromisoformat(day),
    )


def jira_items() -> list[WorkItem]:
    return [
        work("DATA", "jira", "S1", "2026-10-26", "2026-11-06", effort_estimate_hours=40.0),
        work("DATA", "jira", "S2", "2026-11-09", "2026-11-20", effort_estimate_hours=80.0),
        work("DATA", "jira", "S3", "2026-11-23", "2026-11-27", effort_estimate_hours=40.0),
        work("DATA", "jira", "S4", "2026-11-02", None),
    ]


def planner_items() -> list[WorkItem]:
    return [
        work("PLN", "planner", "T1", "2026-11-02", "2026-11-06", percent_complete=0.0),
        work("PLN", "planner", "T2", "2026-11-09", "2026-11-20", percent_complete=0.0),
        work("PLN", "planner", "M", "2026-11-20", "2026-11-20", kind="milestone", percent_complete=0.0),
    ]


def progressed(items: list[WorkItem], changes: dict[str, dict[str, object]]) -> list[WorkItem]:
    return [i.model_copy(update=changes.get(i.key or "", {})) for i in items]


@pytest.fixture
def uncosted(store):
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    with store.writer("jira") as w:
        w.upsert(jira_items())
    with store.writer("planner") as w:
        w.upsert(planner_items())
    for project in ("DATA", "PLN"):
        register = BaselineRegister(store, project)
        register.capture()
        register.approve(1, by="Steering committee", reason="plan of record")
    clock.set_now(datetime(2026, 11, 18, 10, tzinfo=UTC))
    with store.writer("jira") as w:
        done = {"status_category": "done", "percent_complete": 100.0, "actual_finish": date(2026, 11, 6)}
        w.upsert(progressed(jira_items(), {"S1": done, "S2": {"status_category": "in_progress"}}))
    with store.writer("plan") as w:
        # A schedule task for DATA appears after its (Jira-only) baseline: the baseline cannot speak
        # for the schedule's scope, so it is not counted as scope added.
        w.upsert([work("DATA", "msproject", "P1", "2026-11-16", "2026-11-20", kind="task")])
    with store.writer("planner") as w:
        finished = {"status_category": "done", "percent_complete": 100.0, "actual_finish": date(2026, 12, 15)}
        w.upsert(
            progressed(
                planner_items(),
                {"T1": finished, "T2": {"status_category": "in_progress", "percent_complete": 50.0}},
            )
        )
    with store.writer("ledger") as w:
        w.upsert(
            [
                money("DATA", "actual", "30000", "2026-11-05"),
                money("DATA", "actual", "25000", "2026-11-12"),
                money("DATA", "actual", "10000", "2026-11-20"),
                money("PLN", "budget", "20000", "2026-11-01"),
                money("PLN", "budget", "12000", "2026-12-01"),
                money("PLN", "actual", "21000", "2026-11-10"),
            ]
        )
    yield store
    clock.set_now(None)


def test_jira_baseline_without_cost_earns_value_by_work_hours(uncosted):
    m = measure_project(uncosted, CONFIG.projects[0], STATUS, governance=GOVERNANCE, as_of=AS_OF)
    evm = m.evm
    assert evm is not None
    assert (evm.bac, evm.pv, evm.ev, evm.ac) == (D("100000.00"), D("65000.00"), D("50000.00"), D("55000.00"))
    assert (evm.bac_basis, evm.weighting, evm.baseline_cost) == ("approved budget", "work_hours", None)
    assert evm.spi == pytest.approx(50 / 65) and evm.cpi == pytest.approx(50 / 55)
    assert (evm.eac, evm.vac) == (D("110000.00"), D("-10000.00"))
    assert [(p.period_end, p.pv, p.ev, p.ac) for p in evm.s_curve] == [
        (date(2026, 10, 31), D("12500.00"), None, D("0.00")),
        (STATUS, D("65000.00"), D("50000.00"), D("55000.00")),
        (date(2026, 11, 30), D("100000.00"), None, None),
    ]
    assert "weighted by baseline work hours" in evm.basis
    assert "1 items without a baseline finish carry no value" in evm.basis
    assert "0/50/100 rule" in evm.progress_rule

    assert (m.cost.forecast_at_completion, m.cost.forecast_basis) == (D("110000.00"), "EVM EAC = BAC / CPI")
    assert m.rag.cost.status == "amber"
    assert (
        "USD 10,000 over the budget USD 100,000 (10.0 % over): amber; CPI is 0.91: amber"
        in m.rag.cost.explanation
    )
    assert f"earned value basis: {evm.basis}" in m.notes

    # scope: S1-S4 baselined and still there; P1 is from a source the baseline does not hold
    assert (m.scope.baseline_items, m.scope.items_added, m.scope.scope_change_percent) == (4, 0, 0.0)
    assert any(n.startswith("the baseline holds no items from msproject:msproject") for n in m.notes)


def test_planner_baseline_without_hours_earns_value_by_working_days(uncosted):
    m = measure_project(uncosted, CONFIG.projects[1], STATUS, governance=GOVERNANCE, as_of=AS_OF)
    evm = m.evm
    assert evm is not None
    assert (evm.bac, evm.pv, evm.ev, evm.ac) == (D("32000.00"), D("26000.00"), D("20000.00"), D("21000.00"))
    assert (evm.bac_basis, evm.weighting) == ("finance budget lines", "working_days")


def test_a_completion_date_that_has_not_happened_yet_is_not_a_slip(uncosted):
    """T1 is done but its completion is stamped 12-15, after the data was read (11-18): that date
    cannot be real, so T1's planned finish 11-06 counts, and a note says so. Baseline finish 11-20
    (T2, M); forecast 11-20 → no slip (it was +17 working days, 11-20 → 12-15, before the fix)."""
    m = measure_project(uncosted, CONFIG.projects[1], STATUS, governance=GOVERNANCE, as_of=AS_OF)
    s = m.schedule
    assert (s.baseline_finish, s.current_finish, s.finish_variance_working_days) == (
        date(2026, 11, 20),
        date(2026, 11, 20),
        0,
    )
    # (the schedule is still red, on SPI 20,000 / 26,000 = 0.77, which is the real news)
    assert m.rag.schedule.explanation.startswith("the forecast finish is on the baseline date: green")
    assert any("1 work items report an actual finish after 2026-11-18" in n for n in m.notes)


def test_unfinished_work_past_its_finish_is_forecast_no_earlier_than_the_status_date(uncosted):
    """At status date Wed 11-25, T2 (planned 11-20) and M are still open: they cannot finish before
    11-25, so the forecast finish is 11-25, 3 working days (Mon 23, Tue 24, Wed 25) after 11-20."""
    later = datetime(2026, 11, 25, 23, tzinfo=UTC)
    m = measure_project(uncosted, CONFIG.projects[1], date(2026, 11, 25), governance=GOVERNANCE, as_of=later)
    assert (m.schedule.current_finish, m.schedule.finish_variance_working_days) == (date(2026, 11, 25), 3)
