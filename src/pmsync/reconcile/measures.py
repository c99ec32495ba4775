"""Measures for one project as of a status date: read the store, compute, rate.

``measure_project`` is what reports call. It reads the project's records as they are now, or as they
were at ``as_of`` (to rebuild a past report exactly), and returns :class:`ProjectMeasures`: schedule,
cost, earned value with its S-curve, scope, risk, schedule health per schedule, cross-system
exceptions and the RAG ratings with their reasons. How each figure is derived is described in
:mod:`~pmsync.reconcile.figures` (schedule and cost), :mod:`~pmsync.reconcile.evm` (earned value),
:mod:`~pmsync.reconcile.health`, :mod:`~pmsync.reconcile.crosscheck` and
:mod:`~pmsync.reconcile.governance`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate
from typing import Literal

from pmsync import clock
from pmsync.config import ProjectConfig
from pmsync.model import Baseline, BaselineItem, Project, Tier, WorkItem
from pmsync.reconcile import baselines as bl
from pmsync.reconcile.calendar import (
    WorkingCalendar,
    calendar_note,
    item_calendars_note,
    schedule_calendar,
)
from pmsync.reconcile.crosscheck import crosscheck_project
from pmsync.reconcile.evm import (
    compute_evm,
    money,
    month_ends,
    s_curve,
    weighted_earned,
    weighted_planned_curve,
)
from pmsync.reconcile.figures import (
    ChosenBaseline,
    FlowSettings,
    ProjectData,
    choose_baseline,
    cost_measures,
    end_of_day,
    leaves,
    schedule_measures,
    valid_actual_finish,
)
from pmsync.reconcile.governance import GovernanceConfig, rate_project
from pmsync.reconcile.health import assess_schedule, is_complete
from pmsync.reconcile.history import Progress, progress_at, progress_of
from pmsync.reconcile.results import (
    BaselineVariance,
    CostMeasures,
    EvmMeasures,
    Lifecycle,
    ProjectMeasures,
    RiskMeasures,
    ScheduleHealth,
    ScheduleMeasures,
    ScopeMeasures,
)
from pmsync.reconcile.valuation import PROGRESS_RULE, ValueBasis, budget_at_completion, value_basis
from pmsync.store import Store

ZERO = Decimal(0)
#: the S-curve looks back at most this many months (one history read per month)
MAX_CURVE_MONTHS = 60


@dataclass(frozen=True)
class ProjectFacts:
    program: str | None
    tier: Tier | None
    sponsor: str | None
    manager: str | None
    approved_budget: Decimal | None
    currency: str


def project_facts(config: ProjectConfig, stored: Sequence[Project]) -> ProjectFacts:
    """Project facts: pmsync.yaml first, then what a source (e.g. an MS Project file) says."""
    found = stored[0] if stored else None
    return ProjectFacts(
        program=config.program or (found.program if found else None),
        tier=config.tier or (found.tier if found else None),
        sponsor=config.sponsor or (found.sponsor if found else None),
        manager=config.manager or (found.manager if found else None),
        approved_budget=config.approved_budget
        if config.approved_budget is not None
        else (found.approved_budget if found else None),
        currency=config.currency or (found.currency if found else "USD"),
    )


def _evm_candidates(
    chosen: ChosenBaseline, all_items: Sequence[WorkItem], work: Sequence[WorkItem]
) -> dict[str, BaselineItem]:
    """Baseline items that can carry value: detail work, or items no longer in the plan."""
    present = {i.source.key() for i in all_items}
    detail = {i.source.key() for i in work}
    return {k: b for k, b in chosen.items.items() if k in detail or k not in present}


def _earned(basis: ValueBasis, progress: dict[str, Progress]) -> Decimal:
    weighted = weighted_earned(
        (weight, progress[k].percent_for_ev() if k in progress else 0.0)
        for k, weight in basis.weights.items()
    )
    return basis.share_of_bac(weighted)


def evm_measures(
    store: Store,
    data: ProjectData,
    chosen: ChosenBaseline,
    basis: ValueBasis | None,
    status_date: date,
    as_of: datetime | None,
    cal: WorkingCalendar,
    governance: GovernanceConfig,
    currency: str,
) -> EvmMeasures | None:
    """Earned value on one basis: BAC spread over the baseline by ``basis`` (see valuation)."""
    if basis is None or not basis.total:
        return None
    planned = list(basis.items.values())
    starts = [d for b in planned for d in (b.start or b.finish,) if d is not None]
    finishes = [b.finish for b in planned if b.finish is not None]
    first = min([*starts, status_date])
    last = max([*finishes, status_date])
    # Periods: month ends before the status date, the status date itself, then month ends after it.
    ends = [d for d in month_ends(first, last) if d < status_date][-MAX_CURVE_MONTHS:]
    ends += [status_date] + [d for d in month_ends(status_date, last) if d > status_date]
    weighted = [(basis.items[k], w) for k, w in basis.weights.items()]
    pv_curve = [basis.share_of_bac(x) for x in weighted_planned_curve(weighted, ends, cal)]
    current = {i.source.key(): i for i in data.items}
    actual_lines = [x for x in data.cost_lines if x.kind == "actual"]
    # Cumulative actuals by date, so each period's AC is one binary search, not a pass over all lines.
    dated = sorted(((x.posting_date or x.period or date.min), x.amount) for x in actual_lines)
    days = [d for d, _ in dated]
    running = list(accumulate((amount for _, amount in dated), initial=ZERO))
    past = [end for end in ends if end < status_date]
    moments = [end_of_day(end) if as_of is None else min(end_of_day(end), as_of) for end in past]
    snapshots = progress_at(store, data.key, moments) + [{k: progress_of(i) for k, i in current.items()}]
    ev_curve: list[Decimal | None] = []
    ac_curve: list[Decimal | None] = []
    for end, snapshot in zip(ends, snapshots, strict=False):
        # Before the store knew any of the project's work, progress is unknown: no EV point (not 0,
        # which would draw a project that earned nothing while spending).
        ev_curve.append(_earned(basis, snapshot) if snapshot or end == status_date else None)
        if actual_lines:
            ac_curve.append(running[bisect_right(days, end)])
        else:
            ac_curve.append(
                sum((snapshot[k].actual_cost or ZERO for k in basis.weights if k in snapshot), ZERO)
            )
    future = len(ends) - len(snapshots)
    ev_curve += [None] * future
    ac_curve += [None] * future
    at = ends.index(status_date)
    pv, ev, ac = pv_curve[at], ev_curve[at] or ZERO, ac_curve[at] or ZERO
    baseline = chosen.baseline
    name = f"baseline {bl.label(baseline)}" if baseline else "the baseline"
    text = (
        f"{basis.describe(name, currency)}; AC from "
        f"{'finance actuals' if actual_lines else 'the schedule actual cost'} to {status_date}"
    )
    evm = compute_evm(
        status_date=status_date,
        bac=basis.bac,
        pv=pv,
        ev=ev,
        ac=ac,
        eac_method=governance.eac_method,
        currency=currency,
        basis=text,
        curve=s_curve(ends, pv_curve, ev_curve, ac_curve),
        committed=sum(
            (
                x.amount
                for x in data.cost_lines
                if x.kind == "commitment" and (x.posting_date or x.period or date.min) <= status_date
            ),
            ZERO,
        ),
    )
    return evm.model_copy(
        update={
            "bac_basis": basis.bac_basis,
            "weighting": basis.weighting,
            "baseline_cost": money(basis.baseline_cost) if basis.weighting == "cost" else None,
            "progress_rule": PROGRESS_RULE,
        }
    )


def _source_of(key: str) -> str:
    """ "system:instance" of a source key "system:instance:external_id"."""
    return ":".join(key.split(":", 2)[:2])


def uncovered_sources(chosen: ChosenBaseline, all_items: Sequence[WorkItem]) -> list[str]:
    """Sources with work items but nothing in the baseline (their scope change is not counted)."""
    if chosen.baseline is None:
        return []
    covered = {_source_of(k) for k in chosen.items}
    return sorted({_source_of(i.source.key()) for i in all_items} - covered)


def scope_measures(
    chosen: ChosenBaseline, all_items: Sequence[WorkItem], kinds: Sequence[str] | None
) -> ScopeMeasures:
    if chosen.baseline is None:
        return ScopeMeasures(current_items=len(all_items))

    def counted(item: WorkItem) -> bool:
        return item.kind in kinds if kinds is not None else item.kind != "summary"

    by_key = {i.source.key(): i for i in all_items}
    # A baseline speaks only for the sources it holds items of: MS Project's Baseline 0 knows nothing
    # of the Jira stories that detail the same work, so those are not scope added to the schedule.
    covered = {_source_of(k) for k in chosen.items}
    current = {k for k, i in by_key.items() if counted(i) and _source_of(k) in covered}
    baseline = {k for k in chosen.items if k not in by_key or counted(by_key[k])}
    added, removed = len(current - baseline), len(baseline - current)
    return ScopeMeasures(
        baseline_items=len(baseline),
        current_items=len(current),
        items_added=added,
        items_removed=removed,
        scope_change_percent=(added + removed) / len(baseline) * 100 if baseline else None,
        rebaselines=max(chosen.approvals - 1, 0),
    )


def risk_measures(data: ProjectData, status_date: date, high_score: float) -> RiskMeasures:
    open_risks = [r for r in data.risks if r.status_category != "done"]

    def score(risk_score: float | None, probability: float | None, impact: float | None) -> float:
        if risk_score is not None:
            return risk_score
        return (probability or 0) * (impact or 0)

    open_issues = [i for i in data.issues if i.status_category != "done"]
    return RiskMeasures(
        open_risks=len(open_risks),
        high_risks=sum(1 for r in open_risks if score(r.score, r.probability, r.impact) >= high_score),
        overdue_risks=sum(1 for r in open_risks if r.due and r.due < status_date),
        open_issues=len(open_issues),
        overdue_issues=sum(1 for i in open_issues if i.due and i.due < status_date),
        overdue_actions=sum(
            1 for a in data.actions if a.status_category != "done" and a.due and a.due < status_date
        ),
    )


def health_measures(
    data: ProjectData,
    chosen: ChosenBaseline,
    baseline_finish: date | None,
    status_date: date,
    cal: WorkingCalendar,
    governance: GovernanceConfig,
) -> list[ScheduleHealth]:
    """DCMA checks on every schedule of the project: the items of one source scope with logic."""
    groups: dict[tuple[str, str, str], list[WorkItem]] = defaultdict(list)
    for item in data.items:
        groups[(item.source.system, item.source.instance, item.scope)].append(item)
    found = []
    for (system, instance, scope), items in sorted(groups.items()):
        if not any(i.predecessors for i in items):
            continue  # a backlog, not a schedule: DCMA checks would only report missing logic
        prefix = f"{system}:{instance}:"
        base = {k[len(prefix) :]: b for k, b in chosen.items.items() if k.startswith(prefix)}
        found.append(
            assess_schedule(
                items,
                status_date=status_date,
                schedule_name=f"{system}:{instance}" + (f" ({scope})" if scope else ""),
                baseline=base,
                calendar=cal,
                thresholds=governance.health,
                project=data.key,
                baseline_finish=baseline_finish,
            )
        )
    return found


def measure_project(
    store: Store,
    project: ProjectConfig,
    status_date: date,
    *,
    governance: GovernanceConfig | None = None,
    as_of: datetime | None = None,
) -> ProjectMeasures:
    """Every measure of ``project`` as of ``status_date``, from the store as it is (or was at ``as_of``)."""
    governance = governance or GovernanceConfig()
    data = ProjectData.load(store, project.key, as_of)
    # working days are the schedule's own (its calendar and holidays) where a schedule carries one
    agency_calendar = governance.calendar.build()
    cal = schedule_calendar(data.projects, agency_calendar)
    facts = project_facts(project, data.projects)
    currency, budget = facts.currency, facts.approved_budget
    tier = governance.tier_of(facts.tier, budget)
    chosen = choose_baseline(store, project.key, as_of)
    work = leaves(data.items)
    read_on = (as_of or clock.now()).date()
    flow = FlowSettings(
        tuple(governance.flow.systems), governance.flow.window_weeks, governance.flow.confidence
    )
    schedule = schedule_measures(work, data.items, chosen, status_date, cal, read_on, flow)
    candidates = _evm_candidates(chosen, data.items, work)
    baseline_cost = sum((b.cost or ZERO for b in candidates.values()), ZERO)
    bac = budget_at_completion(budget, data.cost_lines, baseline_cost)
    basis = value_basis(candidates, bac, cal)
    evm = evm_measures(store, data, chosen, basis, status_date, as_of, cal, governance, currency)
    cost = cost_measures(data.cost_lines, work, bac, evm, status_date, currency, governance.eac_method)
    scope = scope_measures(chosen, data.items, governance.scope_kinds)
    risk = risk_measures(data, status_date, governance.high_risk_score)
    notes = list(chosen.notes)
    for calendar_used in (calendar_note(cal, agency_calendar), item_calendars_note(work)):
        if calendar_used:
            notes.append(calendar_used)
    future = [i for i in work if i.actual_finish is not None and valid_actual_finish(i, read_on) is None]
    if future:
        notes.append(
            f"{len(future)} work items report an actual finish after {read_on}, when the data was read "
            f"(e.g. {future[0].key or future[0].source.key()}: {future[0].actual_finish}); their planned "
            "finish is used instead — check the completion dates in the source"
        )
    if chosen.baseline is not None and evm is None:
        notes.append(
            "earned value is not computed: no budget at completion (approved budget or finance budget "
            "lines) and no baseline cost, or no baselined item with a finish date"
        )
    elif evm is not None and basis is not None and basis.scaled:
        notes.append(f"earned value basis: {evm.basis}")
    uncovered = uncovered_sources(chosen, data.items)
    if uncovered:
        notes.append(
            f"the baseline holds no items from {', '.join(uncovered)}: their items are not counted as scope "
            "change (capture a pmsync baseline of all sources to cover them)"
        )
    register = bl.BaselineRegister(store, project.key)
    comparison = baseline_comparison(
        register, chosen, data, work, schedule, cost, status_date, cal, read_on, as_of
    )
    lifecycle, lifecycle_basis = lifecycle_of(project, work, schedule, cost)
    percent, percent_basis = percent_complete(schedule, evm)
    return ProjectMeasures(
        project=project.key,
        name=project.name,
        program=facts.program,
        tier=tier,
        sponsor=facts.sponsor,
        manager=facts.manager,
        currency=currency,
        status_date=status_date,
        as_of=as_of,
        baseline=None if chosen.baseline is None else bl.info(chosen.baseline, len(chosen.items)),
        baseline_history=register.history(as_of, listed=chosen.listed),
        baseline_comparison=comparison,
        schedule=schedule,
        cost=cost,
        evm=evm,
        scope=scope,
        risk=risk,
        health=health_measures(data, chosen, schedule.baseline_finish, status_date, cal, governance),
        exceptions=crosscheck_project(
            project.key,
            data.items,
            data.spend_by_task_code(store, as_of),
            governance.crosscheck,
            cal,
            data.spend_keys(store, as_of),
        ),
        rag=rate_project(governance, tier, schedule, cost, evm, scope, risk),
        notes=notes,
        lifecycle=lifecycle,
        lifecycle_basis=lifecycle_basis,
        percent_complete=percent,
        percent_complete_basis=percent_basis,
    )


def _variance_against(
    role: Literal["original", "current"],
    baseline: Baseline,
    measured: ScheduleMeasures,
    items: dict[str, BaselineItem],
    work: Sequence[WorkItem],
    cost: CostMeasures,
) -> BaselineVariance:
    detail = {i.source.key() for i in work}
    costed = [b.cost for k, b in items.items() if b.cost and k in detail]
    baseline_cost = sum(costed, ZERO) if costed else None
    forecast = cost.forecast_at_completion
    return BaselineVariance(
        role=role,
        number=baseline.number,
        approved_at=baseline.approved_at,
        baseline_finish=measured.baseline_finish,
        finish_variance_working_days=measured.finish_variance_working_days,
        finish_variance_percent=measured.finish_variance_percent,
        baseline_cost=None if baseline_cost is None else money(baseline_cost),
        cost_variance=None if baseline_cost is None or forecast is None else money(baseline_cost - forecast),
    )


def baseline_comparison(
    register: bl.BaselineRegister,
    chosen: ChosenBaseline,
    data: ProjectData,
    work: Sequence[WorkItem],
    schedule: ScheduleMeasures,
    cost: CostMeasures,
    status_date: date,
    cal: WorkingCalendar,
    read_on: date,
    as_of: datetime | None,
) -> list[BaselineVariance]:
    """The same forecast against the original (first approved) and the current approved baseline;
    empty until a re-baseline makes them differ."""
    current = chosen.baseline
    approved = [b for b in chosen.listed if bl.is_pmsync(b) and b.approved_at is not None]
    if current is None or len(approved) < 2:
        return []
    original = min(approved, key=lambda b: (b.approved_at, b.number))
    if original.number == current.number:
        return []
    items = {bl.item_key(original, i): i for i in register.items(original, as_of)}
    first = ChosenBaseline(original, items, chosen.approvals, [], chosen.listed)
    measured = schedule_measures(work, data.items, first, status_date, cal, read_on)
    # One forecast, two baselines: the variance is the same forecast finish against each baseline finish.
    forecast = schedule.actual_finish or schedule.current_finish
    variance = None
    if forecast is not None and measured.baseline_finish is not None:
        variance = cal.variance(measured.baseline_finish, forecast)
    duration = measured.baseline_duration_working_days
    measured = measured.model_copy(
        update={
            "finish_variance_working_days": variance,
            "finish_variance_percent": None
            if variance is None or not duration
            else variance / duration * 100,
        }
    )
    return [
        _variance_against("original", original, measured, items, work, cost),
        _variance_against("current", current, schedule, chosen.items, work, cost),
    ]


def lifecycle_of(
    project: ProjectConfig, work: Sequence[WorkItem], schedule: ScheduleMeasures, cost: CostMeasures
) -> tuple[Lifecycle, str]:
    """The lifecycle state: pmsync.yaml's, else derived from the work (closed is never derived:
    financial close is a decision, so a finished project stays "closing" until pmsync.yaml says so)."""
    if project.lifecycle is not None:
        return project.lifecycle, "set in pmsync.yaml"
    if work and all(is_complete(i) for i in work):
        finished = (
            f"actual finish {schedule.actual_finish}"
            if schedule.actual_finish is not None
            else "no actual finish date recorded"
        )
        return "closing", (
            f"derived: all {len(work)} detail items done, {finished} "
            "(set lifecycle: closed in pmsync.yaml after financial close)"
        )
    started = any(i.status_category != "not_started" or i.percent_complete for i in work)
    if not started and not cost.actual_to_date:
        return "planning", "derived: no work started and nothing spent"
    return "executing", "derived: work under way"


def percent_complete(schedule: ScheduleMeasures, evm: EvmMeasures | None) -> tuple[float | None, str]:
    """The project's one % complete: earned value ÷ BAC when EVM exists (work weighted by its budget),
    else detail items done ÷ detail items. The other figure is labelled "items done (by count)"."""
    if evm is not None and evm.percent_complete is not None:
        weights = {
            "cost": "baseline cost",
            "work_hours": "baseline work hours",
            "working_days": "baseline working days",
            "equal": "equal weights",
        }
        by = weights.get(evm.weighting or "cost", "baseline cost")
        return evm.percent_complete, f"earned value ÷ budget at completion (work weighted by {by})"
    if schedule.percent_complete is not None:
        return schedule.percent_complete, "detail items done ÷ detail items (by count)"
    return None, "no work items"
