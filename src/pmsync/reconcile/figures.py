"""Schedule and cost figures for one project from its records, and the baseline they compare with.

The rules, in words:

- **Baseline**: the approved pmsync baseline (the plan of record). When none is approved yet, the MS
  Project file's own Baseline 0 (lowest number) is used and a note says so, so a new project still
  gets figures; the RAG explanation then rests on an unapproved baseline.
- **Leaf items**: finish dates, EVM and BEI use detail work only (no summary rows), so roll-ups are
  not counted twice.
- **Forecast finish**: an item's actual finish, unless that date is later than the day the data was
  read (impossible, so a source error: the planned finish is used and a note says so); unfinished
  scheduled work whose planned finish has passed is forecast to finish no earlier than the status date
  (the first working day after it when the status date is not worked, in the item's own calendar
  when it has one, see :meth:`~pmsync.reconcile.calendar.WorkingCalendar.for_item`).
  Flow-managed work (a Jira backlog, not on a logic-linked schedule) is forecast from its recent weekly
  throughput (:mod:`~pmsync.reconcile.throughput`), never clamped to the status date; with no
  defensible forecast the project is reported "at least N working days late", with no date.
- **EV, PV** on the budget's basis: see :mod:`~pmsync.reconcile.valuation` (BAC spread over the
  baseline by cost, work hours, working days or equally; physical % when the schedule gives one,
  else % complete, else the 0/50/100 rule).
- **AC**: finance actuals dated on or before the status date; without finance lines, the schedule's
  own actual cost.
- **Forecast at completion**: actuals to date + finance forecast lines dated after the status date,
  when finance provides forecasts; else the EAC by the configured method (see
  :mod:`~pmsync.reconcile.eac`, which lists every variant); never below actual + open commitments.
- **Percent spent**: actual to date ÷ BAC (one definition, in cost and EVM alike); spent *and
  committed* is reported apart as ``percent_committed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from pmsync.model import (
    ActionItem,
    Baseline,
    BaselineItem,
    CostLine,
    Issue,
    Project,
    Risk,
    WorkItem,
)
from pmsync.reconcile import baselines as bl
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.eac import eac_variants, rated_forecast
from pmsync.reconcile.evm import money
from pmsync.reconcile.health import is_complete
from pmsync.reconcile.phasing import phase_costs
from pmsync.reconcile.results import (
    CostMeasures,
    EacMethod,
    EvmMeasures,
    FlowForecast,
    ForecastMethod,
    MilestoneMeasure,
    ScheduleMeasures,
)
from pmsync.reconcile.throughput import flow_forecast
from pmsync.reconcile.valuation import BudgetAtCompletion
from pmsync.store import CostTotal, Store, as_totals

ZERO = Decimal(0)


def end_of_day(day: date) -> datetime:
    """The last moment of ``day`` in UTC: what "as of the status date" reads from history."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=UTC)


@dataclass
class ProjectData:
    """One project's records at one moment (what the computations need, nothing else)."""

    key: str
    items: list[WorkItem] = field(default_factory=list)
    #: the project's cost lines summed by the store (:meth:`Store.cost_totals`), not line by line
    cost_lines: list[CostTotal] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)

    def spend_by_task_code(self, store: Store, as_of: datetime | None) -> list[CostTotal]:
        """Actuals and commitments by task code, for the cross-checks; they compare codes with work
        items' links only, so without a linked item they are not read."""
        if not any(item.links for item in self.items):
            return []
        return store.cost_totals(self.key, as_of=as_of, by="task_code")

    def spend_keys(self, store: Store, as_of: datetime | None) -> Callable[[str], list[str]]:
        """The keys of the project's actual and commitment lines booked to a task code (lower case),
        read as lines: only for the codes an exception names."""

        def keys(code: str) -> list[str]:
            return [
                line.source.key()
                for line in store.iter_records(CostLine, project=self.key, as_of=as_of)
                if line.kind in ("actual", "commitment") and (line.task_code or "").lower() == code
            ]

        return keys

    @classmethod
    def load(cls, store: Store, key: str, as_of: datetime | None) -> ProjectData:
        return cls(
            key=key,
            items=list(store.iter_records(WorkItem, project=key, as_of=as_of)),
            cost_lines=store.cost_totals(key, as_of=as_of),
            risks=list(store.iter_records(Risk, project=key, as_of=as_of)),
            issues=list(store.iter_records(Issue, project=key, as_of=as_of)),
            actions=list(store.iter_records(ActionItem, project=key, as_of=as_of)),
            projects=list(store.iter_records(Project, project=key, as_of=as_of)),
        )


def leaves(items: Iterable[WorkItem]) -> list[WorkItem]:
    """Detail work: not a summary row and nobody's parent (within its own source)."""
    listed = list(items)
    parents = {(i.source.system, i.source.instance, i.parent) for i in listed if i.parent}
    return [
        i
        for i in listed
        if i.kind != "summary" and (i.source.system, i.source.instance, i.source.external_id) not in parents
    ]


def _line_date(line: CostTotal) -> date | None:
    return line.posting_date or line.period


def _to_date(line: CostTotal, status_date: date) -> bool:
    day = _line_date(line)
    return day is None or day <= status_date


@dataclass(frozen=True)
class FlowSettings:
    """Which sources hold flow-managed work and how its finish is forecast (governance.flow)."""

    systems: tuple[str, ...] = ("jira",)
    window_weeks: int = 8
    confidence: int = 85


@dataclass
class ChosenBaseline:
    baseline: Baseline | None
    items: dict[str, BaselineItem]
    approvals: int
    notes: list[str]
    #: every baseline of the project as read to choose (a measurement reads them once, not four times:
    #: 3,000 of a 500-project report's 14,000 statements were the same read again)
    listed: list[Baseline] = field(default_factory=list)


def choose_baseline(store: Store, project: str, as_of: datetime | None) -> ChosenBaseline:
    register = bl.BaselineRegister(store, project)
    listed = register.baselines(as_of)
    approvals = sum(1 for b in listed if bl.is_pmsync(b) and b.approved_at is not None)
    baseline = register.approved(as_of, listed=listed)
    notes: list[str] = []
    if baseline is None:
        imported = [b for b in listed if not bl.is_pmsync(b)]
        if imported:
            baseline = min(imported, key=lambda b: (b.number, b.source.key()))
            notes.append(
                f"no approved pmsync baseline: using {baseline.name or 'baseline'} from "
                f"{baseline.source.key()} "
                "(not approved; run `pmsync baseline approve` to make a plan of record)"
            )
        else:
            notes.append("no baseline: schedule variance, earned value and scope change are not computed")
            return ChosenBaseline(None, {}, approvals, notes, listed)
    read = store.valid_time
    if read is not None and baseline.approved_at is not None and baseline.approved_at > read.valid_at:
        notes.append(
            f"baseline {bl.label(baseline)} was approved on {baseline.approved_at.date().isoformat()}, after "
            f"the status date {read.valid_on.isoformat()}: no baseline had been approved by then, so "
            "variances are measured against it"
        )
    items = {bl.item_key(baseline, i): i for i in register.items(baseline, as_of)}
    return ChosenBaseline(baseline, items, approvals, notes, listed)


def valid_actual_finish(item: WorkItem, read_on: date) -> date | None:
    """The actual finish, unless it is later than the day the data was read: a date that has not
    happened yet is a source error (e.g. a completion stamped by a wrong clock), not a slip."""
    if item.actual_finish is not None and item.actual_finish <= read_on:
        return item.actual_finish
    return None


def forecast_finish(
    item: WorkItem, status_date: date, read_on: date, calendar: WorkingCalendar | None = None
) -> date | None:
    """When the item finished, or is now expected to: its (valid) actual finish; else its planned
    finish, but unfinished work whose planned finish has passed cannot finish before the status date,
    nor on a day its ``calendar`` (the item's own, see :meth:`WorkingCalendar.for_item`) does not
    work: then the first working day after the status date."""
    actual = valid_actual_finish(item, read_on)
    if actual is not None:
        return actual
    planned = item.finish or item.due
    if planned is None or is_complete(item) or planned >= status_date:
        return planned
    return status_date if calendar is None else calendar.next_working_day(status_date)


def _milestones(
    items: Sequence[WorkItem],
    base: dict[str, BaselineItem],
    status_date: date,
    cal: WorkingCalendar,
    read_on: date,
) -> list[MilestoneMeasure]:
    found = []
    for item in items:
        if item.kind != "milestone":
            continue
        b = base.get(item.source.key())
        current = item.finish or item.due
        actual = valid_actual_finish(item, read_on) or (current if is_complete(item) else None)
        b_finish = b.finish if b else None
        variance = None
        if b_finish and (actual or current):
            # in the milestone's own working days (its task calendar), as Project counts its slip
            variance = cal.for_item(item).variance(b_finish, actual or current)  # type: ignore[arg-type]
        if b_finish is None:
            state, text = "no_baseline", "not in the baseline used"
        elif actual is not None:
            state = "hit" if actual <= b_finish else "missed"
            late = f" ({variance} working days late)" if variance and variance > 0 else ""
            text = f"finished {actual}, baseline {b_finish}{late}"
        elif b_finish < status_date:
            state, text = "missed", f"baseline finish {b_finish} has passed and it is not finished"
        elif current is not None and current > b_finish:
            state = "at_risk"
            text = f"forecast {current} is {variance} working days after the baseline {b_finish}"
        else:
            state, text = "on_track", f"forecast {current} on or before the baseline {b_finish}"
        found.append(
            MilestoneMeasure(
                source=item.source,
                key=item.key,
                name=item.name,
                baseline_finish=b_finish,
                current_finish=current,
                actual_finish=actual,
                variance_working_days=variance,
                state=state,
                explanation=text,
            )
        )
    return sorted(found, key=lambda m: (m.baseline_finish or m.current_finish or date.max, m.name))


def schedule_measures(
    work: Sequence[WorkItem],
    all_items: Sequence[WorkItem],
    chosen: ChosenBaseline,
    status_date: date,
    cal: WorkingCalendar,
    read_on: date | None = None,
    flow: FlowSettings | None = None,
) -> ScheduleMeasures:
    """Finish variance, milestones and BEI; ``read_on`` is the day the data was read (default: the
    status date), after which no actual date can be real. Flow-managed work (``flow.systems``, e.g. a
    Jira backlog with no logic-linked schedule) is forecast from its throughput (see throughput.py)."""
    read_on = read_on or status_date
    flow = flow or FlowSettings()
    base = chosen.items
    by_key = {i.source.key(): i for i in work}
    present = {i.source.key() for i in all_items}
    b_leaf = [b for k, b in base.items() if k in by_key or k not in present]
    b_starts = [b.start for b in b_leaf if b.start] + [b.finish for b in b_leaf if b.finish and not b.start]
    b_finishes = [b.finish for b in b_leaf if b.finish]
    b_start, b_finish = min(b_starts, default=None), max(b_finishes, default=None)
    flowing = [i for i in work if i.source.system in flow.systems]
    planned = [i for i in work if i.source.system not in flow.systems]
    scheduled = any(i.predecessors for i in planned)
    open_flow = [i for i in flowing if not is_complete(i)]
    # Flow work on a project with a logic-linked schedule details that schedule, whose dates rule.
    dated = planned if scheduled else work
    open_ids = {id(i) for i in open_flow}
    finishes = [
        forecast_finish(i, status_date, read_on, cal.for_item(i)) for i in dated if id(i) not in open_ids
    ]
    current = max((f for f in finishes if f), default=None)
    done = bool(work) and all(is_complete(i) for i in work)
    actuals = [valid_actual_finish(i, read_on) for i in work]
    actual = max((f for f in actuals if f), default=None) if done else None
    method: ForecastMethod = "schedule"
    forecast: FlowForecast | None = None
    floor: int | None = None
    explanation = ""
    if open_flow and not scheduled:
        finished = [f for i in flowing if (f := valid_actual_finish(i, read_on)) is not None]
        forecast = flow_forecast(finished, len(open_flow), status_date, flow.window_weeks, flow.confidence)
        rated = forecast.p85_finish if flow.confidence == 85 else forecast.p50_finish
        if rated is not None:
            method, explanation = "throughput", forecast.explanation
            current = max(rated, current) if current is not None else rated
        else:
            method, current = "floor", None
            explanation = forecast.explanation
            if b_finish is not None and b_finish < status_date:
                floor = cal.variance(b_finish, status_date)
                explanation += (
                    f"; the baseline finish {b_finish} has passed, so the project is at least "
                    f"{floor} working days late"
                )
    variance = duration = percent = None
    if b_finish and (actual or current):
        variance = cal.variance(b_finish, actual or current)  # type: ignore[arg-type]
    if b_start and b_finish:
        duration = cal.count(b_start, b_finish)
    if variance is not None and duration:
        percent = variance / duration * 100
    if not explanation and (actual or current):
        which = "actual" if actual else "forecast"
        explanation = f"{which} finish {actual or current} from the schedule's dates"
    milestones = _milestones(all_items, base, status_date, cal, read_on)
    due = [k for k, b in base.items() if k in by_key and b.finish and b.finish <= status_date]
    # BEI counts baselined detail work with a baseline finish: a done backlog item with no dates
    # (e.g. a Jira epic) was never scheduled, so it must not inflate the index.
    completed = sum(1 for k, b in base.items() if b.finish and k in by_key and is_complete(by_key[k]))
    upcoming = [m for m in milestones if m.actual_finish is None and m.state != "missed"]
    if work:
        percent_done = sum(1 for i in work if is_complete(i)) / len(work) * 100
    return ScheduleMeasures(
        baseline_finish=b_finish,
        current_finish=current,
        actual_finish=actual,
        finish_variance_working_days=variance,
        baseline_duration_working_days=duration,
        finish_variance_percent=percent,
        percent_complete=percent_done if work else None,
        milestones=milestones,
        milestones_hit=sum(1 for m in milestones if m.state == "hit"),
        milestones_missed=sum(1 for m in milestones if m.state == "missed"),
        milestones_at_risk=sum(1 for m in milestones if m.state == "at_risk"),
        next_milestone=min(upcoming, key=lambda m: m.current_finish or date.max, default=None),
        bei=completed / len(due) if due else None,
        bei_tasks_completed=completed,
        bei_tasks_due=len(due),
        forecast_method=method if not actual else "schedule",
        flow_forecast=forecast,
        finish_variance_at_least_working_days=floor,
        forecast_explanation=explanation,
    )


def _sum(lines: Iterable[CostTotal]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


def cost_measures(
    lines: Sequence[CostLine | CostTotal],
    work: Sequence[WorkItem],
    budget: BudgetAtCompletion,
    evm: EvmMeasures | None,
    status_date: date,
    currency: str,
    method: EacMethod = "cpi",
) -> CostMeasures:
    lines = as_totals(lines)
    actuals = [x for x in lines if x.kind == "actual" and _to_date(x, status_date)]
    commitments = [x for x in lines if x.kind == "commitment" and _to_date(x, status_date)]
    forecasts = [x for x in lines if x.kind == "forecast" and not _to_date(x, status_date)]
    actual = _sum(actuals) if actuals else sum((i.actual_cost or ZERO for i in work), ZERO)
    bac, bac_basis = budget.amount, budget.basis
    committed = _sum(commitments)
    floor = actual + committed
    finance = None
    if forecasts:
        value = actual + _sum(forecasts)
        finance = (value, f"actuals to date {actual:,.2f} + finance forecast {_sum(forecasts):,.2f}")
    variants = eac_variants(evm, bac, actual, committed)
    forecast, basis, raised, listed = rated_forecast(method, variants, finance, evm, floor)
    if finance is not None:
        basis = "actuals to date plus finance forecast"
    vac = None if bac is None or forecast is None else bac - forecast
    phasing = phase_costs(lines, status_date, forecast, currency)
    return CostMeasures(
        currency=currency,
        budget_at_completion=bac,
        bac_basis=bac_basis,
        actual_to_date=money(actual),
        commitments=money(committed),
        forecast_at_completion=None if forecast is None else money(forecast),
        forecast_basis=basis,
        variance_at_completion=None if vac is None else money(vac),
        variance_at_completion_percent=None if vac is None or not bac else float(vac / bac * 100),
        cost_variance=evm.cv if evm else None,
        cost_variance_percent=evm.cv_percent if evm else None,
        percent_spent=None if not bac else float(actual / bac * 100),
        percent_committed=None if not bac else float(floor / bac * 100),
        committed_floor=money(floor),
        forecast_raised_to_floor=raised,
        eac_variants=listed,
        by_category=phasing.rows,
        forecast_phasing=phasing.rule,
    )
