"""A project's oversight figures as of a status date: criticality from the scoring sheet, gates and
funds released, the CIO rating beside the computed overall status, open independent findings,
contract burn, funding consumed per source and fiscal year, staffing and benefits variance, and the
escalation triggers with the figure that tripped them.

Inputs: the plan in pmsync.yaml (``projects[].oversight``), the rules (``oversight:``, after its
preset), the maintained inputs from the store (``oversight_file`` records: each counted only when it
dates itself on or before the status date), the project's actual cost lines (contract and funding),
and reconcile's :class:`~pmsync.reconcile.results.ProjectMeasures` for cost and schedule deviation.
Nothing here changes reconcile's own ratings: the CIO override is reported as ``effective_overall``
next to ``computed_overall``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pmsync.config import ProjectConfig
from pmsync.model import (
    BenefitRealised,
    CioRating,
    CostLine,
    GateDecision,
    OversightFinding,
    StaffingActual,
)
from pmsync.oversight.config import CriticalitySheet, OversightSettings, ProjectOversight, Triggers
from pmsync.reconcile.evm import money
from pmsync.reconcile.oversight_results import (
    AmendmentRow,
    BenefitRow,
    CioRatingResult,
    ContractBurn,
    CriticalityAnswer,
    CriticalityResult,
    EscalationTrigger,
    FindingRow,
    FundingRow,
    GateState,
    GateStatus,
    OversightMeasures,
    StaffingVariance,
    TriggerDimension,
)
from pmsync.reconcile.results import ProjectMeasures, RagRating
from pmsync.store import CostTotal, Store, as_totals


def _pct(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float(part / whole * 100)


def _m(value: Decimal | None, currency: str) -> str:
    return "n/a" if value is None else f"{currency} {value:,.0f}"


# --- criticality --------------------------------------------------------------------------------


def criticality(plan: ProjectOversight, sheet: CriticalitySheet) -> CriticalityResult:
    """The override when the oversight body set one, else the scoring sheet's total."""
    if plan.criticality_override is not None:
        return CriticalityResult(
            level=plan.criticality_override, basis="set by the oversight body (criticality_override)"
        )
    if not sheet.factors:
        return CriticalityResult(basis="no scoring sheet (oversight.criticality) configured")
    answers: list[CriticalityAnswer] = []
    missing: list[str] = []
    total = 0
    for factor in sheet.factors:
        chosen = plan.criticality.get(factor.name)
        level = next((lv for lv in factor.levels if lv.name == chosen), None)
        if level is None:
            missing.append(factor.name if chosen is None else f"{factor.name} ({chosen!r} is not a level)")
            answers.append(CriticalityAnswer(factor=factor.name, level=chosen))
            continue
        total += level.points
        answers.append(CriticalityAnswer(factor=factor.name, level=level.name, points=level.points))
    if missing:
        return CriticalityResult(answers=answers, basis="not scored: unanswered " + ", ".join(missing))
    level_name = "high" if total >= sheet.high_from else "medium" if total >= sheet.medium_from else "low"
    return CriticalityResult(
        level=level_name,
        score=total,
        answers=answers,
        basis=f"score {total} on the scoring sheet: medium from {sheet.medium_from}, "
        f"high from {sheet.high_from}",
    )


# --- gates --------------------------------------------------------------------------------------

_STATE: dict[str, GateState] = {
    "approved": "passed",
    "approved_with_conditions": "passed_with_conditions",
    "deferred": "deferred",
    "rejected": "rejected",
}


def gates(
    plan: ProjectOversight, decisions: Sequence[GateDecision], status_date: date
) -> tuple[list[GateStatus], str | None, str | None, Decimal]:
    """Each planned gate with its latest decision by the status date (decisions for gates not in the
    plan follow), the last gate passed, the next gate, and the funds released so far."""
    latest: dict[str, GateDecision] = {}
    for decision in sorted(decisions, key=lambda d: (d.decided_on, d.source.external_id)):
        if decision.decided_on <= status_date:
            latest[decision.gate] = decision
    names = [g.gate for g in plan.gates] + sorted(set(latest) - {g.gate for g in plan.gates})
    planned = {g.gate: g for g in plan.gates}
    rows: list[GateStatus] = []
    current = nxt = None
    released = Decimal(0)
    for name in names:
        g = planned.get(name)
        d = latest.get(name)
        state: GateState
        if d is not None:
            state = _STATE[d.decision]
        elif g is not None and g.planned is not None and g.planned < status_date:
            state = "overdue"
        else:
            state = "pending"
        if state in ("passed", "passed_with_conditions"):
            current = name
            released += d.funds_released or Decimal(0) if d is not None else Decimal(0)
        elif nxt is None:
            nxt = name
        rows.append(
            GateStatus(
                gate=name,
                planned=g.planned if g else None,
                state=state,
                decision=d.decision if d else None,
                decided_on=d.decided_on if d else None,
                decided_by=d.decided_by if d else None,
                conditions=d.conditions if d else None,
                funds_planned=g.funds_planned if g else None,
                funds_released=d.funds_released if d else None,
                recorded_by=d.recorded_by if d else None,
                recorded_at=d.recorded_at if d else None,
            )
        )
    return rows, current, nxt, released


# --- CIO rating ---------------------------------------------------------------------------------


def cio_rating(
    ratings: Sequence[CioRating], settings: OversightSettings, status_date: date
) -> CioRatingResult | None:
    """The CIO's latest rating on or before the status date."""
    dated = [r for r in ratings if r.rated_on <= status_date]
    if not dated:
        return None
    r = max(dated, key=lambda r: (r.rated_on, r.recorded_at or r.source_modified or 0, r.source.external_id))
    return CioRatingResult(
        rating=r.rating,
        rag=settings.cio_rating.rag[r.rating],
        reason=r.reason,
        rated_on=r.rated_on,
        rated_by=r.recorded_by,
        recorded_at=r.recorded_at,
        overrides=settings.cio_rating.overrides_overall,
    )


def effective_overall(computed: RagRating, cio: CioRatingResult | None) -> RagRating:
    """The overall status the report leads with: the CIO's when it overrides, else the computed one."""
    if cio is None or not cio.overrides:
        return computed
    words = "agrees with" if cio.rag == computed.status else "overrides"
    return RagRating(
        dimension="overall",
        status=cio.rag,
        rule="the CIO rating (1 = high risk ... 5 = low risk) overrides the computed overall status",
        explanation=(
            f"CIO rating {cio.rating} ({cio.rag}) of {cio.rated_on} by {cio.rated_by}: {cio.reason}. "
            f"It {words} the computed overall status {computed.status}."
        ),
        figures={"cio_rating": float(cio.rating)},
        headline=f"CIO rating {cio.rating} ({cio.rag}); computed {computed.status}",
    )


# --- findings -----------------------------------------------------------------------------------

_SEVERITY = {"high": 0, "medium": 1, "low": 2}


def findings(records: Iterable[OversightFinding], status_date: date) -> list[FindingRow]:
    """Findings raised by the status date; open ones first (high severity, oldest first)."""
    rows = []
    for f in records:
        if f.raised_on > status_date:
            continue
        is_open = f.closed_on is None or f.closed_on > status_date
        rows.append(
            FindingRow(
                ref=f.source.external_id,
                title=f.title,
                assessor=f.assessor,
                severity=f.severity,
                recommendation=f.recommendation,
                owner=f.owner,
                corrective_action=f.corrective_action,
                action_status=f.action_status,
                due=f.due,
                raised_on=f.raised_on,
                closed_on=f.closed_on if not is_open else None,
                open=is_open,
                overdue=is_open and f.due is not None and f.due < status_date,
                recorded_by=f.recorded_by,
                recorded_at=f.recorded_at,
            )
        )
    rows.sort(key=lambda r: (not r.open, _SEVERITY.get(r.severity, 3), r.raised_on, r.ref))
    return rows


# --- contracts and funding ----------------------------------------------------------------------


def contract_burn(
    plan: ProjectOversight,
    cost_lines: Sequence[CostLine | CostTotal],
    status_date: date,
    warn_percent: float,
) -> list[ContractBurn]:
    """Payments to date against each contract's current value (original + executed amendments)."""
    actuals = as_totals(cost_lines)
    result = []
    for c in plan.contracts:
        pos = {p.casefold() for p in c.po_numbers}
        if pos:
            lines = [a for a in actuals if a.po_number and a.po_number.casefold() in pos]
            basis = f"paid = actual cost lines with PO {', '.join(c.po_numbers)}, posted by {status_date}"
        else:
            lines = [a for a in actuals if a.vendor and a.vendor.casefold() == c.vendor.casefold()]
            basis = (
                f"paid = actual cost lines of vendor {c.vendor} (no PO configured), posted by {status_date}"
            )
        executed = [a for a in c.amendments if a.executed is None or a.executed <= status_date]
        current = c.value + sum((a.value_change for a in executed), Decimal(0))
        paid = money(sum((a.amount for a in lines), Decimal(0)))
        burn = _pct(paid, current)
        accepted = sum(1 for d in c.deliverables if d.accepted is not None and d.accepted <= status_date)
        overdue = sum(
            1
            for d in c.deliverables
            if d.due is not None and d.due < status_date and (d.accepted is None or d.accepted > status_date)
        )
        result.append(
            ContractBurn(
                vendor=c.vendor,
                number=c.number,
                po_numbers=c.po_numbers,
                original_value=c.value,
                amendments=[
                    AmendmentRow(
                        number=a.number,
                        value_change=a.value_change,
                        executed=a.executed,
                        description=a.description,
                    )
                    for a in executed
                ],
                current_value=current,
                paid_to_date=paid,
                burn_percent=burn,
                remaining=current - paid,
                nearing_value=burn is not None and warn_percent <= burn <= 100,
                over_value=paid > current,
                deliverables=len(c.deliverables),
                deliverables_accepted=accepted,
                deliverables_overdue=overdue,
                payment_lines=sum(a.lines for a in lines),
                warn_percent=warn_percent,
                basis=basis + _NOT_PAID,
            )
        )
    return result


#: what contract burn and funding consumed leave out, said wherever they are shown
_NOT_PAID = "; invoices not yet paid, commitments and encumbrances are not counted"
_NOT_SPENT = "; commitments and encumbrances are not counted"


def funding(plan: ProjectOversight, lines: Sequence[CostLine | CostTotal]) -> list[FundingRow]:
    """Each appropriation with the actual spend charged to it."""
    actuals = as_totals(lines)
    rows = []
    per_year: dict[int, int] = {}
    for line in plan.funding:
        per_year[line.fiscal_year] = per_year.get(line.fiscal_year, 0) + 1
    for line in plan.funding:
        in_year = [a for a in actuals if a.fiscal_year == line.fiscal_year]
        spent: Decimal | None
        if line.accounts:
            accounts = {x.casefold() for x in line.accounts}
            spent = sum(
                (a.amount for a in in_year if a.account and a.account.casefold() in accounts), Decimal(0)
            )
            basis = (
                f"spent = actuals of FY{line.fiscal_year} on account {', '.join(line.accounts)}" + _NOT_SPENT
            )
        elif per_year[line.fiscal_year] == 1:
            spent = sum((a.amount for a in in_year), Decimal(0))
            basis = f"spent = all actuals of FY{line.fiscal_year} (the year's only funding line)" + _NOT_SPENT
        else:
            spent = None
            basis = f"not attributed: FY{line.fiscal_year} has several funding lines; set accounts on each"
        rows.append(
            FundingRow(
                source=line.source,
                fiscal_year=line.fiscal_year,
                cost_type=line.cost_type,
                appropriated=line.amount,
                spent=None if spent is None else money(spent),
                remaining=None if spent is None else money(line.amount - spent),
                consumed_percent=None if spent is None else _pct(spent, line.amount),
                basis=basis,
            )
        )
    return rows


# --- staffing and benefits ----------------------------------------------------------------------


def staffing(
    plan: ProjectOversight, actuals: Sequence[StaffingActual], status_date: date
) -> StaffingVariance | None:
    """Planned vs actual FTE in the latest month with actuals by the status date."""
    if not plan.staffing and not actuals:
        return None
    months = sorted({a.month.replace(day=1) for a in actuals if a.month <= status_date})
    if not months:
        return StaffingVariance(
            month=status_date.replace(day=1), basis="no staffing actuals recorded by the status date"
        )
    month = months[-1]
    actual = sum((a.fte for a in actuals if a.month.replace(day=1) == month), Decimal(0))
    in_force = [p for p in plan.staffing if p.month.replace(day=1) <= month]
    if not in_force:
        return StaffingVariance(month=month, actual_fte=actual, basis="no staffing plan in force that month")
    planned = max(in_force, key=lambda p: p.month).fte
    return StaffingVariance(
        month=month,
        planned_fte=planned,
        actual_fte=actual,
        variance_fte=actual - planned,
        variance_percent=_pct(actual - planned, planned),
        basis=f"FTE in {month:%Y-%m} (all roles) against the plan in force that month; "
        "negative = understaffed",
    )


def benefits(
    plan: ProjectOversight, realised: Sequence[BenefitRealised], status_date: date
) -> list[BenefitRow]:
    """Each planned benefit with its latest realised value by the status date."""
    rows = []
    for b in plan.benefits:
        measured = [r for r in realised if r.benefit == b.benefit and r.measured_on <= status_date]
        last = max(measured, key=lambda r: (r.measured_on, r.source.external_id), default=None)
        value = last.value if last else None
        rows.append(
            BenefitRow(
                benefit=b.benefit,
                unit=b.unit,
                planned=b.planned,
                by=b.by,
                due=b.by <= status_date,
                realised=value,
                measured_on=last.measured_on if last else None,
                variance=None if value is None else value - b.planned,
                variance_percent=None if value is None else _pct(value - b.planned, b.planned),
                recorded_by=last.recorded_by if last else None,
            )
        )
    return rows


# --- escalation triggers ------------------------------------------------------------------------


def _basis_figures(
    measures: ProjectMeasures, basis: str
) -> tuple[Decimal | None, float | None, int | None, str]:
    """(budget, finish variance %, finish variance days, what the basis is) for the chosen baseline."""
    cost = measures.cost
    if basis == "original":
        original = next((b for b in measures.baseline_comparison if b.role == "original"), None)
        if original is not None:
            return (
                original.baseline_cost if original.baseline_cost is not None else cost.budget_at_completion,
                original.finish_variance_percent,
                original.finish_variance_working_days,
                f"original baseline {original.number}",
            )
        return (
            cost.budget_at_completion,
            measures.schedule.finish_variance_percent,
            measures.schedule.finish_variance_working_days,
            "original baseline (no re-baseline recorded: the current one)",
        )
    number = measures.baseline.number if measures.baseline else None
    return (
        cost.budget_at_completion,
        measures.schedule.finish_variance_percent,
        measures.schedule.finish_variance_working_days,
        "current baseline" + (f" {number}" if number is not None else ""),
    )


def _trigger(
    rules: Triggers,
    dimension: TriggerDimension,
    threshold: float,
    basis: str,
    *,
    figure: float | None = None,
    tripped: bool = False,
    measured: str,
    unit: str | None = None,
) -> EscalationTrigger:
    """One trigger row. ``measured`` says the figures in words (or, with no ``figure``, why nothing
    was measured); a tripped trigger names the action ("re-approval required", and the report the
    rules call for) and why: the figure against its threshold."""
    if figure is None:
        explanation = f"not measured: {measured}"
    elif tripped:
        report = f" ({rules.report_name})" if rules.report_name else ""
        explanation = f"{measured}: at or beyond the threshold, so {rules.action}{report}"
    else:
        explanation = f"{measured}: within the threshold"
    return EscalationTrigger(
        dimension=dimension,
        threshold_percent=threshold,
        figure_percent=figure,
        tripped=tripped,
        basis=basis,
        unit=unit,
        explanation=explanation,
    )


def _cost_trigger(rules: Triggers, threshold: float, measures: ProjectMeasures) -> EscalationTrigger:
    budget, _, _, basis = _basis_figures(measures, rules.basis)
    forecast = measures.cost.forecast_at_completion
    if budget is None or forecast is None or budget == 0:
        return _trigger(rules, "cost", threshold, basis, measured="no budget or no forecast at completion")
    pct = float((forecast - budget) / budget * 100)
    currency = measures.currency
    return _trigger(
        rules,
        "cost",
        threshold,
        basis,
        figure=pct,
        tripped=abs(pct) >= threshold,
        measured=(
            f"forecast at completion {_m(forecast, currency)} is {abs(pct):.1f} % "
            f"{'over' if pct >= 0 else 'under'} the budget {_m(budget, currency)} of the {basis} "
            f"(forecast − budget, ÷ budget; threshold ±{threshold:g} %)"
        ),
    )


def _schedule_trigger(rules: Triggers, threshold: float, measures: ProjectMeasures) -> EscalationTrigger:
    _, finish_pct, finish_days, basis = _basis_figures(measures, rules.basis)
    if finish_pct is None:
        return _trigger(
            rules, "schedule", threshold, basis, measured="no baseline finish or duration to compare with"
        )
    days = finish_days or 0
    return _trigger(
        rules,
        "schedule",
        threshold,
        basis,
        figure=finish_pct,
        tripped=finish_pct >= threshold,
        measured=(
            f"forecast finish {abs(days)} working days {'late' if days >= 0 else 'early'}, "
            f"{finish_pct:.1f} % of the {basis}'s duration (positive = late; "
            f"threshold: {threshold:g} % late; finishing early never trips it)"
        ),
    )


def _benefits_triggers(
    rules: Triggers, threshold: float, benefit_rows: Sequence[BenefitRow]
) -> list[EscalationTrigger]:
    """One trigger per unit: benefits in hours and in dollars are not added together."""
    due = [b for b in benefit_rows if b.due]
    if not due:
        return [
            _trigger(
                rules,
                "benefits",
                threshold,
                "benefits plan",
                measured="no planned benefit due by the status date",
            )
        ]
    result = []
    for unit in sorted({b.unit for b in due}):
        rows = [b for b in due if b.unit == unit]
        planned = sum((b.planned for b in rows), Decimal(0))
        realised = sum((b.realised or Decimal(0) for b in rows), Decimal(0))
        share = _pct(realised - planned, planned)
        names = ", ".join(b.benefit for b in rows)
        if share is None:
            measured = f"the benefits due in {unit} ({names}) plan 0 {unit}: no deviation to measure"
        else:
            unmeasured = [b.benefit for b in rows if b.realised is None]
            measured = (
                f"{realised:,.0f} {unit} realised against {planned:,.0f} {unit} planned by the status date "
                f"({names}), {share:+.1f} % (realised − planned, ÷ planned; threshold ±{threshold:g} %)"
                + (f"; counted as 0, nothing recorded: {', '.join(unmeasured)}" if unmeasured else "")
            )
        result.append(
            _trigger(
                rules,
                "benefits",
                threshold,
                "benefits plan",
                unit=unit,
                figure=share,
                tripped=share is not None and abs(share) >= threshold,
                measured=measured,
            )
        )
    return result


def triggers(
    rules: Triggers, measures: ProjectMeasures, benefit_rows: Sequence[BenefitRow]
) -> list[EscalationTrigger]:
    """Each configured trigger with the figure it measured and whether it tripped."""
    result: list[EscalationTrigger] = []
    if rules.cost_percent is not None:
        result.append(_cost_trigger(rules, rules.cost_percent, measures))
    if rules.schedule_percent is not None:
        result.append(_schedule_trigger(rules, rules.schedule_percent, measures))
    if rules.benefits_percent is not None:
        result.extend(_benefits_triggers(rules, rules.benefits_percent, benefit_rows))
    return result


# --- the whole -----------------------------------------------------------------------------------


@dataclass
class MaintainedInputs:
    """One project's maintained inputs (read once per report for all projects: see
    :meth:`read_all`, so a 500-project pack makes five reads, not 2,500)."""

    decisions: list[GateDecision] = field(default_factory=list)
    ratings: list[CioRating] = field(default_factory=list)
    findings: list[OversightFinding] = field(default_factory=list)
    benefits: list[BenefitRealised] = field(default_factory=list)
    staffing: list[StaffingActual] = field(default_factory=list)

    @classmethod
    def read(cls, store: Store, project: str) -> MaintainedInputs:
        return cls(
            list(store.iter_records(GateDecision, project=project)),
            list(store.iter_records(CioRating, project=project)),
            list(store.iter_records(OversightFinding, project=project)),
            list(store.iter_records(BenefitRealised, project=project)),
            list(store.iter_records(StaffingActual, project=project)),
        )

    @classmethod
    def read_all(cls, store: Store) -> dict[str, MaintainedInputs]:
        by_project: dict[str, MaintainedInputs] = {}

        def of(project: str | None) -> MaintainedInputs:
            return by_project.setdefault(project or "", cls())

        for d in store.iter_records(GateDecision):
            of(d.project).decisions.append(d)
        for r in store.iter_records(CioRating):
            of(r.project).ratings.append(r)
        for f in store.iter_records(OversightFinding):
            of(f.project).findings.append(f)
        for b in store.iter_records(BenefitRealised):
            of(b.project).benefits.append(b)
        for s in store.iter_records(StaffingActual):
            of(s.project).staffing.append(s)
        return by_project


def reads_spend(project: ProjectConfig) -> bool:
    """Whether the project's oversight figures read its spend totals (``by="spend"``): contract burn
    and funding consumed, when it has contracts or funding lines."""
    return bool(project.oversight.contracts or project.oversight.funding)


def measure_oversight(
    store: Store,
    project: ProjectConfig,
    settings: OversightSettings,
    measures: ProjectMeasures,
    status_date: date,
    inputs: MaintainedInputs | None = None,
) -> OversightMeasures:
    """The project's oversight figures as of ``status_date`` (``store`` is the report's view;
    ``inputs``: the project's maintained inputs when already read, else read here)."""
    key = project.key
    plan = project.oversight
    if inputs is None:
        inputs = MaintainedInputs.read(store, key)
    gate_rows, current_gate, next_gate, released = gates(plan, inputs.decisions, status_date)
    cio = cio_rating(inputs.ratings, settings, status_date)
    finding_rows = findings(inputs.findings, status_date)
    actuals: list[CostTotal] = []
    if reads_spend(project):
        actuals = [
            c
            for c in store.cost_totals(key, by="spend")
            if c.kind == "actual" and (c.posting_date or c.period or status_date) <= status_date
        ]
    contracts = contract_burn(plan, actuals, status_date, settings.contract_warn_percent)
    benefit_rows = benefits(plan, inputs.benefits, status_date)
    trigger_rows = triggers(settings.triggers, measures, benefit_rows)
    currency = measures.currency
    needed: list[str] = []
    reasons = [f"{t.label}: {t.explanation}" for t in trigger_rows if t.tripped]
    if reasons:
        needed.append(
            f"{settings.triggers.action.capitalize()}"
            + (f" ({settings.triggers.report_name})" if settings.triggers.report_name else "")
            + ": "
            + "; ".join(t.label for t in trigger_rows if t.tripped)
            + " deviation beyond the threshold"
        )
    for g in gate_rows:
        if g.state == "overdue":
            needed.append(f"{g.gate}: planned {g.planned}, no decision recorded")
        elif g.state == "deferred":
            needed.append(f"{g.gate}: deferred on {g.decided_on}; a decision is pending")
    for c in contracts:
        if c.over_value:
            needed.append(
                f"Contract {c.number} ({c.vendor}): paid {_m(c.paid_to_date, currency)} exceeds its value "
                f"{_m(c.current_value, currency)}"
            )
        elif c.nearing_value:
            needed.append(
                f"Contract {c.number} ({c.vendor}): {c.burn_percent:.1f} % of its value paid; "
                "an amendment or a new procurement may be needed"
            )
    open_rows = [f for f in finding_rows if f.open]
    overdue_high = [f for f in open_rows if f.overdue and f.severity == "high"]
    if overdue_high:
        needed.append(
            f"{len(overdue_high)} high-severity oversight finding(s) past their corrective action date"
        )
    notes = []
    if cio is None:
        notes.append("no CIO rating recorded by the status date: the computed overall status stands")
    return OversightMeasures(
        project=key,
        status_date=status_date,
        criticality=criticality(plan, settings.criticality),
        phase=plan.phase,
        current_gate=current_gate,
        next_gate=next_gate,
        gates=gate_rows,
        funds_released=released,
        funds_planned=sum((g.funds_planned or Decimal(0) for g in plan.gates), Decimal(0))
        if settings.gated_funding
        else None,
        cio=cio,
        computed_overall=measures.rag.overall,
        effective_overall=effective_overall(measures.rag.overall, cio),
        findings=finding_rows,
        open_findings=len(open_rows),
        open_high_findings=sum(1 for f in open_rows if f.severity == "high"),
        overdue_findings=sum(1 for f in open_rows if f.overdue),
        contracts=contracts,
        funding=funding(plan, actuals),
        staffing=staffing(plan, inputs.staffing, status_date),
        benefits=benefit_rows,
        triggers=trigger_rows,
        reapproval_required=bool(reasons),
        reapproval_reasons=reasons,
        decisions_needed=needed,
        preset=settings.preset,
        preset_source=settings.source,
        notes=notes,
    )
