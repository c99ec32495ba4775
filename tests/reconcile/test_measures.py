"""A hand-computed test portfolio: the store in, ProjectMeasures and the roll-up out.

Project ERP (tier medium, approved budget 30,000), governance calendar with Thanksgiving
(Thu 2026-11-26) as a holiday, status date Mon 2026-11-30. MS Project schedule erp.xml:

    SUM  summary "ERP" (cost roll-up 29,000; a parent, so never counted as work)
    A    2026-11-02..11-13 (10 working days), cost 10,000, done            finance code P-100.01
    B    2026-11-16..12-11 (19 working days: Nov 16-20, 23-25, 27, 30, Dec 1-4, 7-11), cost 19,000,
         50 % complete, now forecast to finish 12-18 (5 working days late)  finance P-100.02, Jira ERP-1
    M    milestone "Go-live", baseline 12-11, now 12-18
    C    added after the baseline: 12-01..12-04, cost 2,000

Jira epic ERP-1 (done, no dates) is synced; baseline 1 is captured (SUM, A, B, M, ERP-1) and
approved on 2026-11-02; the plan then changes (B and M slip, C is added). Hand computation at 2026-11-30:

    Baseline cost of detail work A + B (SUM excluded) = 29,000, but BAC = the approved budget 30,000
    (AC comes from finance, on the budget's basis). So the baseline gives the time-phasing only and
    PV and EV are scaled to BAC by 30,000 / 29,000:
    PV  = 30,000 × (A 10,000 + B 19,000 × 10/19 (Nov 16-20, 23-25, 27, 30 = 10 of 19 days)) / 29,000
        = 30,000 × 20,000 / 29,000                                                   = 20,689.66
    EV  = 30,000 × (A 10,000 × 100 % + B 19,000 × 50 %) / 29,000 = 30,000 × 19,500 / 29,000 = 20,172.41
    AC  = finance actuals dated ≤ 11-30: 8,000 (11-10) + 12,000 (11-25); 3,000 (12-02) is later = 20,000
    SV = 20,172.41 − 20,689.66 = −517.24 (exactly 30,000 × −500 / 29,000); CV = 172.41
    SPI = 19,500 / 20,000 = 0.975 (scaling cancels); CPI = 20,172.41 / 20,000 = 585 / 580 = 1.0086
    EAC = BAC / CPI = 30,000 × 20,000 / 20,172.41 = 29,000 × 20,000 / 19,500 = 29,743.59
    ETC = 9,743.59; VAC = 30,000 − 29,743.59 = 256.41
    TCPI = (30,000 − 20,172.41) / (30,000 − 20,000) = 9,827.59 / 10,000 = 0.98276

    Cost: BAC = approved budget 30,000; forecast = EAC 29,743.59; variance at completion = 256.41
          (0.85 % under); commitments 5,000; spent 20,000 / 30,000 = 66.7 %, spent and committed
          (20,000 + 5,000) / 30,000 = 83.3 %; the forecast 29,743.59 is above 25,000 (not raised)
    Schedule: baseline 11-02..12-11 = 29 working days; forecast finish 12-18 → +5 days = 17.2 %
              (medium tier: amber from 10 %) → amber; SPI 0.975 ≥ 0.95 green; worse = amber.
              Go-live at risk (+5). BEI: 1 task (A) due by baseline, 1 done → 1.0.
    Scope: baseline A, B, M, ERP-1 (4, summary not counted); now C is added: 1 of 4 = 25 % → red (≥ 20 %).
    Risk: one open risk scored 20 (≥ 15 is high) → amber.   Overall: red (scope).
    Exceptions: Jira ERP-1 done while schedule B is 50 % → one status mismatch.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pmsync import clock
from pmsync.config import PmsyncConfig
from pmsync.model import CostLine, Dependency, Risk, SourceRef, WorkItem
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.reconcile.governance import load_governance
from pmsync.reconcile.measures import measure_project
from pmsync.reconcile.portfolio import governed_measurer, measure_portfolio
from pmsync.report.moments import reading_of, report_moments
from pmsync.report.period import Period, ReportingCalendar

D = Decimal
STATUS = date(2026, 11, 30)
CONFIG = PmsyncConfig.model_validate(
    {
        "projects": [
            {
                "key": "ERP",
                "name": "ERP upgrade",
                "tier": "medium",
                "sponsor": "CFO",
                "approved_budget": 30000,
            },
            {"key": "WEB", "name": "Web portal", "tier": "small", "sponsor": "CIO"},
        ],
        "governance": {"calendar": {"holidays": ["2026-11-26"]}},
    }
)
GOVERNANCE = load_governance(CONFIG.governance)


def ms(uid: str, name: str, start: str, finish: str, **fields: object) -> WorkItem:
    defaults: dict[str, object] = {"parent": "SUM", "resources": ("Ann",)}
    defaults.update(fields)
    return WorkItem(
        source=SourceRef(system="msproject", instance="plan", external_id=f"erp.xml#{uid}"),
        project="ERP",
        scope="plan:erp.xml",
        key=uid,
        name=name,
        start=date.fromisoformat(start),
        finish=date.fromisoformat(finish),
        **defaults,  # type: ignore[arg-type]
    )


def pred(uid: str) -> tuple[Dependency, ...]:
    return (Dependency(predecessor=f"erp.xml#{uid}"),)


def plan(slipped: bool) -> list[WorkItem]:
    b_finish, m_finish = ("2026-12-18", "2026-12-18") if slipped else ("2026-12-11", "2026-12-11")
    items = [
        ms("SUM", "ERP", "2026-11-02", m_finish, kind="summary", parent=None, cost=D(29000), resources=()),
        ms(
            "A",
            "Design",
            "2026-11-02",
            "2026-11-13",
            cost=D(10000),
            percent_complete=100,
            status_category="done",
            actual_start=date(2026, 11, 2),
            actual_finish=date(2026, 11, 13),
            links={"finance": "P-100.01"},
        ),
        ms(
            "B",
            "Build",
            "2026-11-16",
            b_finish,
            cost=D(19000),
            percent_complete=50 if slipped else 0,
            actual_start=date(2026, 11, 16) if slipped else None,
            predecessors=pred("A"),
            links={"finance": "P-100.02", "jira": "ERP-1"},
        ),
        ms("M", "Go-live", m_finish, m_finish, kind="milestone", predecessors=pred("B"), resources=()),
    ]
    if slipped:
        items.append(
            ms("C", "Extra reports", "2026-12-01", "2026-12-04", cost=D(2000), predecessors=pred("A"))
        )
    return items


def finance(amount: str, kind: str, day: str, code: str, project: str | None = "ERP") -> CostLine:
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=f"{kind}-{day}-{code}"),
        project=project,
        kind=kind,  # type: ignore[arg-type]
        amount=D(amount),
        posting_date=date.fromisoformat(day),
        task_code=code,
        category="Contractors",
        fiscal_year=2027,
        fiscal_period=int(day[5:7]) - 6,
    )


@pytest.fixture
def portfolio(store):
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    with store.writer("plan") as w:
        w.upsert(plan(slipped=False))
    with store.writer("jira") as w:
        w.upsert(
            [
                WorkItem(
                    source=SourceRef(system="jira", instance="jira-cloud", external_id="10001"),
                    project="ERP",
                    key="ERP-1",
                    name="Build epic",
                    kind="epic",
                    status="Done",
                    status_category="done",
                )
            ]
        )
    register = BaselineRegister(store, "ERP")
    register.capture()
    register.approve(1, by="Steering committee", reason="plan of record")
    clock.set_now(datetime(2026, 11, 30, 10, tzinfo=UTC))
    with store.writer("plan") as w:
        w.upsert(plan(slipped=True))
    with store.writer("ledger") as w:
        w.upsert(
            [
                finance("8000", "actual", "2026-11-10", "P-100.01"),
                finance("12000", "actual", "2026-11-25", "P-100.02"),
                finance("3000", "actual", "2026-12-02", "P-100.02"),
                finance("5000", "commitment", "2026-11-20", "P-100.02"),
                finance("750", "actual", "2026-11-12", "P-999", project=None),
            ]
        )
    with store.writer("raid") as w:
        w.upsert(
            [
                Risk(
                    source=SourceRef(system="jira", instance="jira-cloud", external_id="r1"),
                    project="ERP",
                    title="Vendor capacity",
                    score=20,
                    status_category="in_progress",
                )
            ]
        )
    yield store
    clock.set_now(None)


def test_project_measures_match_the_hand_computation(portfolio):
    m = measure_project(portfolio, CONFIG.projects[0], STATUS, governance=GOVERNANCE)
    evm = m.evm
    assert evm is not None
    assert (evm.bac, evm.pv, evm.ev, evm.ac) == (D("30000.00"), D("20689.66"), D("20172.41"), D("20000.00"))
    assert (evm.bac_basis, evm.weighting, evm.baseline_cost) == ("approved budget", "cost", D("29000.00"))
    assert (evm.sv, evm.cv) == (D("-517.24"), D("172.41"))
    assert evm.spi == pytest.approx(0.975) and evm.cpi == pytest.approx(585 / 580)
    assert (evm.eac, evm.etc, evm.vac) == (D("29743.59"), D("9743.59"), D("256.41"))
    assert evm.eac_formula == "EAC = BAC / CPI = 30,000.00 / 1.0086 = 29,743.59"
    assert evm.tcpi == pytest.approx((30000 - 30000 * 19500 / 29000) / 10000)
    assert [(p.period_end, p.pv, p.ev, p.ac) for p in evm.s_curve] == [
        (STATUS, D("20689.66"), D("20172.41"), D("20000.00")),
        (date(2026, 12, 31), D("30000.00"), None, None),
    ]
    assert "differs from baseline 1's cost USD 29,000.00" in evm.basis
    assert "PV(t) = BAC × baseline cost planned by t / total baseline cost" in evm.basis

    cost = m.cost
    assert (cost.budget_at_completion, cost.bac_basis) == (D(30000), "approved budget")
    assert (cost.actual_to_date, cost.commitments) == (D("20000.00"), D("5000.00"))
    assert cost.forecast_at_completion == D("29743.59")
    assert cost.variance_at_completion == D("256.41")
    # one percent spent: actual ÷ BAC; spent and committed is its own, named figure
    assert cost.percent_spent == pytest.approx(20000 / 30000 * 100)
    assert cost.percent_committed == pytest.approx(25000 / 30000 * 100)
    # BAC / CPI (29,743.59) is above actual + open commitments (25,000): not raised
    assert cost.committed_floor == D("25000.00") and not cost.forecast_raised_to_floor
    assert [(r.fiscal_period, r.actual, r.commitment) for r in cost.by_category] == [(5, D(20000), D(5000))]

    s = m.schedule
    assert (s.baseline_finish, s.current_finish) == (date(2026, 12, 11), date(2026, 12, 18))
    assert (s.finish_variance_working_days, s.baseline_duration_working_days) == (5, 29)
    assert s.finish_variance_percent == pytest.approx(5 / 29 * 100)
    (golive,) = s.milestones
    assert (golive.name, golive.state, golive.variance_working_days) == ("Go-live", "at_risk", 5)
    assert s.next_milestone == golive
    assert (s.bei, s.bei_tasks_completed, s.bei_tasks_due) == (1.0, 1, 1)

    assert (m.scope.baseline_items, m.scope.items_added, m.scope.items_removed) == (4, 1, 0)
    assert (m.risk.open_risks, m.risk.high_risks) == (1, 1)

    rag = {r.dimension: r.status for r in m.rag.as_list()}
    assert rag == {"schedule": "amber", "cost": "green", "scope": "red", "risk": "amber", "overall": "red"}
    assert (
        "5 working days late (17.2 % of the 29-working-day baseline duration): amber"
        in m.rag.schedule.explanation
    )
    assert (
        m.rag.overall.explanation
        == "red because scope is red: scope: 25.0 % of baselined items added or removed "
        "(threshold 10 %, red 20 %)"
    )

    assert [e.kind for e in m.exceptions] == ["status_mismatch"]
    assert m.baseline is not None and m.baseline.approved_by == "Steering committee"
    assert [e.action for e in m.baseline_history] == ["captured", "approved"]
    (health,) = m.health
    assert health.schedule == "msproject:plan (plan:erp.xml)"
    assert (m.tier, m.sponsor) == ("medium", "CFO")
    assert m.notes == [f"earned value basis: {evm.basis}"]  # the report explains the scaling


def test_portfolio_rollup_and_trend(portfolio):
    """Measured as a report measures it: the November report, compared with October's (one rule for
    the previous status date, pmsync.report.moments)."""
    moments = report_moments(ReportingCalendar(CONFIG.reporting), Period.parse("2026-11"), clock.now(), None)
    assert moments.status_date == STATUS
    measured = measure_portfolio(
        reading_of(portfolio, moments),
        CONFIG.projects,
        governed_measurer(CONFIG),
        currency=CONFIG.portfolio.currency,
        owned=[p.key for p in CONFIG.projects],
    )
    measures, rollup = [m.current for m in measured.projects], measured.rollup
    assert [m.project for m in measures] == ["ERP", "WEB"]
    web = measures[1]
    assert web.rag.overall.status == "grey"  # no data at all: not rated, and says why
    assert "no baseline" in web.notes[0]
    assert rollup.project_count == 2
    assert rollup.budget_at_completion == D(30000)
    assert rollup.actual_to_date == D("20000.00")
    assert rollup.status_counts == {"red": 1, "amber": 0, "green": 0, "grey": 1}
    assert [(g.value, g.project_count) for g in rollup.by_tier] == [("small", 1), ("medium", 1)]
    assert [g.value for g in rollup.by_sponsor] == ["CFO", "CIO"]
    assert rollup.attention_order == ["ERP", "WEB"]
    assert rollup.previous_status_date == date(2026, 10, 31)
    erp_trend = rollup.trend[0]
    # On 10-31 nothing existed yet for ERP: every dimension is new (or still unrated)
    assert erp_trend.overall == "new"
    (unowned,) = rollup.exceptions
    assert unowned.kind == "unowned_spend" and "750.00" in unowned.description


def test_past_report_is_rebuilt_from_history(portfolio):
    """As of 2026-11-02 (after approval, before the slip) the plan matched the baseline: no variance."""
    as_of = datetime(2026, 11, 2, 12, tzinfo=UTC)
    m = measure_project(portfolio, CONFIG.projects[0], date(2026, 11, 2), governance=GOVERNANCE, as_of=as_of)
    assert m.schedule.finish_variance_working_days == 0
    assert m.scope.items_added == 0
    assert m.cost.actual_to_date == D(0)
    assert m.rag.schedule.status == "green"


def test_s_curve_takes_past_earned_value_from_history(portfolio):
    """On 12-10 B is updated to 80 %. At status date 12-15 the S-curve's November point still shows
    what was known on 11-30 (B 50 %: EV 20,172.41 as above), the status-date point the new progress:
    EV = 30,000 × (10,000 + 19,000 × 80 %) / 29,000 = 30,000 × 25,200 / 29,000 = 26,068.97;
    AC = 20,000 + 3,000 (12-02) = 23,000; PV = BAC 30,000 (B's baseline finish 12-11 has passed)."""
    clock.set_now(datetime(2026, 12, 10, 9, tzinfo=UTC))
    b = next(i for i in plan(slipped=True) if i.key == "B")
    with portfolio.writer("plan") as w:
        w.upsert([b.model_copy(update={"percent_complete": 80.0})])
    m = measure_project(portfolio, CONFIG.projects[0], date(2026, 12, 15), governance=GOVERNANCE)
    assert m.evm is not None
    assert [(p.label, p.pv, p.ev, p.ac) for p in m.evm.s_curve] == [
        ("2026-11", D("20689.66"), D("20172.41"), D("20000.00")),
        ("2026-12", D("30000.00"), D("26068.97"), D("23000.00")),
        ("2026-12", D("30000.00"), None, None),
    ]
    assert m.evm.s_curve[1].period_end == date(2026, 12, 15)


def test_after_a_rebaseline_the_original_and_current_baseline_are_side_by_side(portfolio):
    """Re-baseline on 11-30 to the slipped plan (baseline 2: B and Go-live 12-18, C added). The forecast
    finish 12-18 is 0 working days late against baseline 2 but 5 late against the original baseline 1
    (12-11 → 12-18: Dec 14-18). Baseline 1's detail cost A 10,000 + B 19,000 = 29,000; baseline 2 adds
    C 2,000 = 31,000. Each cost variance is that baseline cost − the one forecast at completion."""
    clock.set_now(datetime(2026, 11, 30, 12, tzinfo=UTC))
    BaselineRegister(portfolio, "ERP").rebaseline(
        by="Steering committee", reason="build slip", change_request="CR-7"
    )
    clock.set_now(datetime(2026, 11, 30, 13, tzinfo=UTC))
    m = measure_project(portfolio, CONFIG.projects[0], STATUS, governance=GOVERNANCE)
    original, current = m.baseline_comparison
    assert (original.role, original.number, original.baseline_finish) == ("original", 1, date(2026, 12, 11))
    assert (current.role, current.number, current.baseline_finish) == ("current", 2, date(2026, 12, 18))
    assert (original.finish_variance_working_days, current.finish_variance_working_days) == (5, 0)
    assert m.schedule.finish_variance_working_days == 0  # rated against the current baseline
    assert (original.baseline_cost, current.baseline_cost) == (D("29000.00"), D("31000.00"))
    forecast = m.cost.forecast_at_completion
    assert forecast is not None
    assert original.cost_variance == D("29000.00") - forecast
    assert current.cost_variance == D("31000.00") - forecast


def test_no_comparison_before_a_rebaseline(portfolio):
    assert (
        measure_project(portfolio, CONFIG.projects[0], STATUS, governance=GOVERNANCE).baseline_comparison
        == []
    )
