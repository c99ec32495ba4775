"""Schedule health: the DCMA 14-point assessment on one schedule's work items.

The Defense Contract Management Agency's 14-point check is the public yardstick oversight bodies use
for integrated master schedules. Each check here says what it counted, the threshold, and which
tasks it flagged, so a scheduler can go straight to the fix. The standard thresholds are the
defaults; every one can be changed in ``governance.health`` of pmsync.yaml.

Populations follow the DCMA guidance: "tasks" are detail work (summary rows are roll-ups, not work);
most checks look at *incomplete* tasks, because finished work cannot be re-planned. Two exceptions are
deliberate: the network's one open start (a start milestone with no predecessor) and one open finish
(a finish milestone with no successor) are how every schedule begins and ends, so check 1 does not
flag them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from pmsync.model import BaselineItem, Dependency, WorkItem
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.critical_path import cpli_check, critical_path_check
from pmsync.reconcile.results import HealthCheck, HealthFinding, ScheduleHealth


class HealthThresholds(BaseModel):
    """DCMA thresholds (percentages of the population unless named otherwise)."""

    model_config = ConfigDict(extra="forbid")

    missing_logic_percent: float = Field(default=5, ge=0, le=100)
    leads_percent: float = Field(default=0, ge=0, le=100)
    lags_percent: float = Field(default=5, ge=0, le=100)
    #: at least this share of relationships must be finish-to-start
    finish_to_start_min_percent: float = Field(default=90, ge=0, le=100)
    hard_constraints_percent: float = Field(default=5, ge=0, le=100)
    high_float_days: float = Field(default=44, ge=0)
    high_float_percent: float = Field(default=5, ge=0, le=100)
    negative_float_percent: float = Field(default=0, ge=0, le=100)
    high_duration_days: float = Field(default=44, ge=0)
    high_duration_percent: float = Field(default=5, ge=0, le=100)
    invalid_dates_percent: float = Field(default=0, ge=0, le=100)
    resources_percent: float = Field(default=0, ge=0, le=100)
    missed_tasks_percent: float = Field(default=5, ge=0, le=100)
    #: working days added to a critical task in the critical path test
    critical_path_test_delay_days: int = Field(default=600, gt=0)
    cpli_min: float = Field(default=0.95, ge=0)
    bei_min: float = Field(default=0.95, ge=0)


# Hard constraints pin a date regardless of logic: Must Start/Finish On, Start/Finish No Later Than.
# Spellings: MSPDI numbers (2, 3, 5, 7), MPXJ enum names, MS Project abbreviations and display names.
_HARD_CONSTRAINTS = {
    "2",
    "3",
    "5",
    "7",
    "mso",
    "mfo",
    "snlt",
    "fnlt",
    "muststarton",
    "mustfinishon",
    "startnolaterthan",
    "finishnolaterthan",
}


def _constraint_code(value: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (value or "").lower())


def is_hard_constraint(value: str | None) -> bool:
    return _constraint_code(value) in _HARD_CONSTRAINTS


def is_complete(item: WorkItem) -> bool:
    return (
        item.status_category == "done"
        or item.actual_finish is not None
        or (item.percent_complete is not None and item.percent_complete >= 100)
    )


@dataclass(frozen=True)
class _Link:
    successor: WorkItem
    dependency: Dependency


class _Schedule:
    """Indexes of one schedule: detail tasks, relationships, successors."""

    def __init__(self, items: Iterable[WorkItem], calendar: WorkingCalendar) -> None:
        all_items = list(items)
        self.calendar = calendar
        parents = {i.parent for i in all_items if i.parent}
        self.tasks = [i for i in all_items if i.kind != "summary" and i.source.external_id not in parents]
        self.by_id = {t.source.external_id: t for t in self.tasks}
        self.links: list[_Link] = [
            _Link(t, dep) for t in self.tasks for dep in t.predecessors if dep.predecessor in self.by_id
        ]
        self.successors: dict[str, list[str]] = {}
        for link in self.links:
            self.successors.setdefault(link.dependency.predecessor, []).append(
                link.successor.source.external_id
            )
        self.incomplete = [t for t in self.tasks if not is_complete(t)]

    def duration(self, item: WorkItem) -> int:
        """Working days of the item, in its own calendar when it has one (MS Project's task
        calendar): ``duration_days`` is in the project's hours per day, which miscounts a 24-hour
        or a 4x10 calendar, so such an item's dates are counted instead."""
        if item.kind == "milestone":
            return 0
        if item.calendar is not None and item.start and item.finish:
            return self.calendar.for_item(item).count(item.start, item.finish)
        if item.duration_days is not None:
            return round(item.duration_days)
        if item.start and item.finish:
            return self.calendar.count(item.start, item.finish)
        return 0


def _finding(check: str, item: WorkItem, detail: str) -> HealthFinding:
    return HealthFinding(check=check, item=item.source, key=item.key, name=item.name, detail=detail)


def _label(item: WorkItem) -> str:
    return f"{item.key or item.source.external_id} {item.name!r}"


def _percent_check(
    check: str,
    number: int,
    title: str,
    population: int,
    findings: list[HealthFinding],
    limit: float,
    what: str,
    *,
    at_least: bool = False,
    flagged: int | None = None,
) -> HealthCheck:
    """A check that passes when the flagged share is at most (or, ``at_least``, at least) ``limit`` %."""
    count = len(findings) if flagged is None else flagged
    if population == 0:
        return HealthCheck(
            check=check,
            dcma_number=number,
            title=title,
            population=0,
            flagged=0,
            threshold=limit,
            threshold_text=f"{'≥' if at_least else '≤'} {limit:g} %",
            passed=None,
            explanation=f"not applicable: no {what} to check",
        )
    share = count / population * 100
    passed = share >= limit if at_least else share <= limit
    comparison = "at least" if at_least else "at most"
    explanation = (
        f"{count} of {population} {what} ({share:.1f} %); the threshold is {comparison} {limit:g} %, "
        f"so the check {'passes' if passed else 'fails'}"
    )
    return HealthCheck(
        check=check,
        dcma_number=number,
        title=title,
        population=population,
        flagged=count,
        metric=share,
        threshold=limit,
        threshold_text=f"{'≥' if at_least else '≤'} {limit:g} %",
        passed=passed,
        explanation=explanation,
        findings=findings,
    )


def _open_ends(schedule: _Schedule) -> tuple[set[str], set[str]]:
    """The open start (earliest start milestone with no predecessor) and open finish (latest finish
    milestone with no successor) that every network legitimately has."""
    milestones = [t for t in schedule.tasks if t.kind == "milestone"]
    starts = [t for t in milestones if not t.predecessors and t.start]
    finishes = [t for t in milestones if t.source.external_id not in schedule.successors and t.finish]
    exempt_start: set[str] = set()
    exempt_finish: set[str] = set()
    earliest = min((t.start for t in schedule.tasks if t.start), default=None)
    latest = max((t.finish for t in schedule.tasks if t.finish), default=None)
    first = [t for t in starts if t.start == earliest]
    last = [t for t in finishes if t.finish == latest]
    if len(first) == 1:
        exempt_start.add(first[0].source.external_id)
    if len(last) == 1:
        exempt_finish.add(last[0].source.external_id)
    return exempt_start, exempt_finish


def _missing_logic(schedule: _Schedule, limit: float) -> HealthCheck:
    exempt_start, exempt_finish = _open_ends(schedule)
    findings = []
    for task in schedule.incomplete:
        task_id = task.source.external_id
        missing = []
        if not any(d.predecessor in schedule.by_id for d in task.predecessors) and (
            task_id not in exempt_start
        ):
            missing.append("predecessor")
        if task_id not in schedule.successors and task_id not in exempt_finish:
            missing.append("successor")
        if missing:
            findings.append(_finding("missing_logic", task, f"no {' and no '.join(missing)}"))
    return _percent_check(
        "missing_logic", 1, "Missing logic", len(schedule.incomplete), findings, limit, "incomplete tasks"
    )


def _relationship_checks(schedule: _Schedule, t: HealthThresholds) -> list[HealthCheck]:
    relevant = [link for link in schedule.links if not is_complete(link.successor)]
    leads, lags, not_fs = [], [], []
    for link in relevant:
        dep, successor = link.dependency, link.successor
        predecessor = schedule.by_id[dep.predecessor]
        text = f"{dep.type} from {_label(predecessor)}"
        if dep.lag_days < 0:
            leads.append(_finding("leads", successor, f"lead of {-dep.lag_days:g} days on {text}"))
        elif dep.lag_days > 0:
            lags.append(_finding("lags", successor, f"lag of {dep.lag_days:g} days on {text}"))
        if dep.type != "FS":
            not_fs.append(_finding("relationship_types", successor, f"{text} is not finish-to-start"))
    n = len(relevant)
    what = "relationships of incomplete tasks"
    types = _percent_check(
        "relationship_types",
        4,
        "Relationship types",
        n,
        not_fs,
        t.finish_to_start_min_percent,
        f"{what} are finish-to-start",
        at_least=True,
        flagged=n - len(not_fs),
    )
    return [
        _percent_check("leads", 2, "Leads", n, leads, t.leads_percent, f"{what} have a lead"),
        _percent_check("lags", 3, "Lags", n, lags, t.lags_percent, f"{what} have a lag"),
        types,
    ]


def _task_checks(
    schedule: _Schedule,
    baseline: Mapping[str, BaselineItem],
    status_date: date,
    t: HealthThresholds,
) -> list[HealthCheck]:
    hard, high_float, negative, high_duration, invalid, no_resources = [], [], [], [], [], []
    cal = schedule.calendar
    for task in schedule.incomplete:
        if is_hard_constraint(task.constraint_type):
            when = f" {task.constraint_date.isoformat()}" if task.constraint_date else ""
            hard.append(_finding("hard_constraints", task, f"constraint {task.constraint_type}{when}"))
        slack = task.total_slack_days
        if slack is not None and slack > t.high_float_days:
            high_float.append(_finding("high_float", task, f"total float {slack:g} working days"))
        if slack is not None and slack < 0:
            negative.append(_finding("negative_float", task, f"total float {slack:g} working days"))
        if task.kind != "milestone":
            base = baseline.get(task.source.external_id)
            if base is not None and base.start and base.finish:
                days = cal.for_item(task).count(base.start, base.finish)
                basis = "baseline duration"
            else:
                days, basis = schedule.duration(task), "duration"
            if days > t.high_duration_days:
                high_duration.append(_finding("high_duration", task, f"{basis} {days} working days"))
            if days > 0 and not task.resources and not task.assignee:
                no_resources.append(_finding("resources", task, f"{days} working days, no resources"))
        problems = []
        if task.actual_start is None and task.start and task.start < status_date:
            problems.append(f"forecast start {task.start} is before the status date {status_date}")
        if task.finish and task.finish < status_date:
            problems.append(f"forecast finish {task.finish} is before the status date {status_date}")
        if task.actual_start and task.actual_start > status_date:
            problems.append(f"actual start {task.actual_start} is after the status date {status_date}")
        if problems:
            invalid.append(_finding("invalid_dates", task, "; ".join(problems)))
    for task in schedule.tasks:  # finished tasks can carry future actuals too
        if is_complete(task) and task.actual_finish and task.actual_finish > status_date:
            detail = f"actual finish {task.actual_finish} is after the status date {status_date}"
            invalid.append(_finding("invalid_dates", task, detail))
    n = len(schedule.incomplete)
    work = sum(1 for task in schedule.incomplete if task.kind != "milestone")
    inc = "incomplete tasks"
    return [
        _percent_check("hard_constraints", 5, "Hard constraints", n, hard, t.hard_constraints_percent, inc),
        _percent_check(
            "high_float",
            6,
            "High float",
            n,
            high_float,
            t.high_float_percent,
            f"{inc} with more than {t.high_float_days:g} working days of total float",
        ),
        _percent_check("negative_float", 7, "Negative float", n, negative, t.negative_float_percent, inc),
        _percent_check(
            "high_duration",
            8,
            "High duration",
            work,
            high_duration,
            t.high_duration_percent,
            f"incomplete non-milestone tasks longer than {t.high_duration_days:g} working days",
        ),
        _percent_check("invalid_dates", 9, "Invalid dates", n, invalid, t.invalid_dates_percent, inc),
        _percent_check(
            "resources",
            10,
            "Resources",
            work,
            no_resources,
            t.resources_percent,
            "incomplete tasks with duration but no resources",
        ),
    ]


def _missed_and_bei(
    schedule: _Schedule,
    baseline: Mapping[str, BaselineItem],
    status_date: date,
    t: HealthThresholds,
) -> list[HealthCheck]:
    due = []
    for task in schedule.tasks:
        base = baseline.get(task.source.external_id)
        if base is not None and base.finish is not None and base.finish <= status_date:
            due.append((task, base.finish))
    missed = []
    for task, base_finish in due:
        if task.actual_finish is None and not is_complete(task):
            missed.append(_finding("missed_tasks", task, f"baseline finish {base_finish}, not finished"))
        elif task.actual_finish is not None and task.actual_finish > base_finish:
            detail = f"baseline finish {base_finish}, finished {task.actual_finish}"
            missed.append(_finding("missed_tasks", task, detail))
    missed_check = _percent_check(
        "missed_tasks",
        11,
        "Missed tasks",
        len(due),
        missed,
        t.missed_tasks_percent,
        "tasks due by the status date missed their baseline finish",
    )
    completed = sum(1 for task in schedule.tasks if is_complete(task))
    bei_value, text = bei(completed, len(due))
    bei_check = HealthCheck(
        check="bei",
        dcma_number=14,
        title="Baseline execution index",
        population=len(due),
        flagged=completed,
        metric=bei_value,
        threshold=t.bei_min,
        threshold_text=f"≥ {t.bei_min:g}",
        passed=None if bei_value is None else bei_value >= t.bei_min,
        explanation=text
        if bei_value is None
        else f"{text}; the threshold is at least {t.bei_min:g}, so the check "
        f"{'passes' if bei_value >= t.bei_min else 'fails'}",
    )
    return [missed_check, bei_check]


def bei(completed: int, due: int) -> tuple[float | None, str]:
    """Baseline execution index = tasks completed / tasks with a baseline finish by the status date."""
    if due == 0:
        return None, "not applicable: no task had a baseline finish on or before the status date"
    value = completed / due
    return value, f"BEI = {completed} tasks completed / {due} tasks due by baseline = {value:.2f}"


def assess_schedule(
    items: Iterable[WorkItem],
    *,
    status_date: date,
    schedule_name: str,
    baseline: Mapping[str, BaselineItem] | None = None,
    calendar: WorkingCalendar | None = None,
    thresholds: HealthThresholds | None = None,
    project: str | None = None,
    baseline_finish: date | None = None,
) -> ScheduleHealth:
    """Run the 14 checks on one schedule's work items (all items of one source instance/scope).

    ``baseline`` maps work item external id → baseline item (for missed tasks, BEI and baseline
    durations); ``baseline_finish`` is the project's baseline finish, used as the deadline in CPLI.
    """
    cal = calendar or WorkingCalendar()
    t = thresholds or HealthThresholds()
    base = baseline or {}
    schedule = _Schedule(items, cal)
    checks: list[HealthCheck] = [_missing_logic(schedule, t.missing_logic_percent)]
    checks += _relationship_checks(schedule, t)
    checks += _task_checks(schedule, base, status_date, t)
    missed, bei_check = _missed_and_bei(schedule, base, status_date, t)
    checks.append(missed)
    delay = t.critical_path_test_delay_days
    checks.append(critical_path_check(schedule.tasks, schedule.incomplete, cal, delay))
    checks.append(cpli_check(schedule.incomplete, status_date, cal, baseline_finish, t.cpli_min))
    checks.append(bei_check)
    checks.sort(key=lambda c: c.dcma_number)
    return ScheduleHealth(
        project=project,
        schedule=schedule_name,
        status_date=status_date,
        task_count=len(schedule.tasks),
        checks=checks,
        passed=sum(1 for c in checks if c.passed is True),
        failed=sum(1 for c in checks if c.passed is False),
        not_applicable=sum(1 for c in checks if c.passed is None),
    )
