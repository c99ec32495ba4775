"""A deterministic generator of realistic MS Project schedules (MSPDI XML, as Project 2019 saves them).

The same :class:`ScheduleSpec` always gives the same bytes, so the demo, the tests and the benchmarks
can rely on exact values. A schedule has phases (summary tasks), work packages (summaries), tasks and
a closing milestone per phase; finish-to-start and start-to-start links with lags (and the odd lead);
constraints; a resource pool with rates and one assignment per task; costs from work × rate;
custom fields ``Jira Key`` (Text1), ``Finance Code`` (Text2) and ``Story Points`` (Number1); and the
stored baselines of ``spec.baselines``.

``advance(spec, weeks)`` moves the status date on: tasks before it make progress (actual dates,
percent complete, actual cost, earned value) and some slip (longer durations push their successors),
while the baselines stay as planned — what a PM's file looks like a few weeks later.

    python -m pmsync.sandbox.mspdi_gen out.xml --tasks 1000 --weeks 6 --baselines 0 1
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

MIN_TASKS = 10
MAX_TASKS = 100_000
MINUTES_PER_DAY = 480
FIELD_JIRA_KEY = 188743731  # Text1
FIELD_FINANCE_CODE = 188743734  # Text2
FIELD_STORY_POINTS = 188743767  # Number1

_VERBS = (
    "Design",
    "Build",
    "Configure",
    "Test",
    "Migrate",
    "Review",
    "Document",
    "Deploy",
    "Integrate",
    "Validate",
    "Train users on",
    "Decommission",
    "Procure",
    "Plan",
    "Analyse",
)
_OBJECTS = (
    "general ledger",
    "vendor master data",
    "payroll interface",
    "identity provider",
    "data warehouse",
    "reporting layer",
    "case management module",
    "API gateway",
    "citizen portal",
    "records archive",
    "network segment",
    "backup service",
    "licence pool",
    "help desk workflow",
    "Migración de datos",
    "Überprüfung der Schnittstellen",
    "contrôle d'accès",
)
_PHASES = ("Initiation", "Requirements", "Design", "Build", "Test", "Deployment", "Transition", "Closeout")
_PEOPLE = (
    "Ana Souza",
    "Ben Okafor",
    "Chloé Martin",
    "Dmitri Ivanov",
    "Emma Lindqvist",
    "Farah Khan",
    "Giorgos Papadopoulos",
    "Hana Sato",
    "Ivan Petrov",
    "Julia Nowak",
    "Kofi Mensah",
    "Lena Fischer",
    "Mateo García",
    "Nora Ahmed",
    "Oskar Berg",
    "Priya Nair",
)


@dataclass(frozen=True)
class ScheduleSpec:
    """What to generate. ``tasks`` counts every row (summaries and milestones included)."""

    tasks: int = 200
    seed: int = 7
    title: str = "ERP Modernisation"
    manager: str = "Alex Rivera"
    start: date = date(2026, 1, 5)  # a Monday
    jira_project: str = "ERP"
    finance_code: str = "P-100"
    baselines: tuple[int, ...] = (0,)
    resources: int = 12
    #: working weeks from the start to the status date; 0 means not started
    weeks_elapsed: int = 0
    tasks_per_package: int = 8
    packages_per_phase: int = 5

    def __post_init__(self) -> None:
        if not MIN_TASKS <= self.tasks <= MAX_TASKS:
            raise ValueError(f"tasks must be {MIN_TASKS}..{MAX_TASKS}, got {self.tasks}")
        if self.start.weekday() != 0:
            raise ValueError("start must be a Monday")
        if any(not 0 <= n <= 10 for n in self.baselines):
            raise ValueError("baselines are numbered 0-10")


def advance(spec: ScheduleSpec, weeks: int) -> ScheduleSpec:
    """The same schedule ``weeks`` working weeks later: more progress, some slips, same baselines."""
    return replace(spec, weeks_elapsed=spec.weeks_elapsed + weeks)


@dataclass(slots=True)
class _Row:
    uid: int
    name: str
    level: int
    kind: str  # summary | task | milestone
    outline: str
    parent: int | None
    planned_days: int = 0
    days: int = 0  # after slips
    links: list[tuple[int, int, int]] = field(default_factory=list)  # (pred uid, MSPDI type, lag days)
    constraint: tuple[int, int] | None = None  # (MSPDI type, working-day index)
    resource: int | None = None
    rate: float = 0.0
    jira: str | None = None
    points: int | None = None
    # computed (working-day indexes; a task occupies start..finish inclusive)
    start: int = 0
    finish: int = 0
    plan_start: int = 0
    plan_finish: int = 0
    slack: int = 0
    children: list[int] = field(default_factory=list)


def _workday(start: date, index: int) -> date:
    weeks, rem = divmod(index, 5)
    return start + timedelta(days=7 * weeks + rem)


class _Plan:
    def __init__(self, spec: ScheduleSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.rows: list[_Row] = []
        self.by_uid: dict[int, _Row] = {}
        self.status_index = spec.weeks_elapsed * 5
        self._build()
        self._schedule(planned=True)
        self._schedule(planned=False)

    # -- structure --------------------------------------------------------------------------------

    def _add(self, row: _Row) -> _Row:
        self.rows.append(row)
        self.by_uid[row.uid] = row
        if row.parent is not None:
            self.by_uid[row.parent].children.append(row.uid)
        return row

    def _build(self) -> None:
        spec, rng = self.spec, self.rng
        budget = spec.tasks
        uid = 0
        jira_seq = 0
        previous_milestone: int | None = None
        # Phases run in parallel streams (one after another within a stream), so a big programme
        # spans a few years rather than centuries: about a dozen phases end to end.
        rows_per_phase = 2 + spec.packages_per_phase * (1 + spec.tasks_per_package)
        phases = max(1, -(-budget // rows_per_phase))
        streams = max(1, -(-phases // 12))
        milestones: list[int] = []
        phase_no = 0
        while budget >= 4:  # a phase needs its summary, a package, a task and its milestone
            phase_no += 1
            uid += 1
            phase_name = f"{_PHASES[(phase_no - 1) % len(_PHASES)]} {(phase_no - 1) // len(_PHASES) + 1}"
            phase = self._add(_Row(uid, phase_name, 1, "summary", f"{phase_no}", None))
            budget -= 1
            last_tasks: list[int] = []
            first_of_packages: list[int] = []
            gate = milestones[-streams] if len(milestones) >= streams else None
            package_no = 0
            while budget > 2 and package_no < spec.packages_per_phase:
                package_no += 1
                uid += 1
                package = self._add(
                    _Row(
                        uid,
                        f"Work package {phase_no}.{package_no}",
                        2,
                        "summary",
                        f"{phase_no}.{package_no}",
                        phase.uid,
                    )
                )
                budget -= 1
                previous: int | None = None
                for task_no in range(1, spec.tasks_per_package + 1):
                    if budget <= 1:
                        break
                    uid += 1
                    budget -= 1
                    name = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
                    row = _Row(uid, name, 3, "task", f"{phase_no}.{package_no}.{task_no}", package.uid)
                    row.planned_days = rng.choice((1, 2, 3, 5, 5, 8, 10, 15))
                    if rng.random() < 0.02:
                        row.planned_days = rng.choice((45, 60))  # a DCMA "high duration" task
                    if previous is not None:
                        if rng.random() < 0.12:
                            row.links.append((previous, 3, rng.choice((1, 2))))  # SS with lag
                        else:
                            lag = rng.choice((0, 0, 0, 0, 0, 0, 1, 2)) if rng.random() > 0.01 else -1
                            row.links.append((previous, 1, lag))  # FS (lag, or a rare lead)
                    elif first_of_packages:  # packages overlap: start 3 days after the previous one
                        row.links.append((first_of_packages[-1], 3, 3))
                    elif gate is not None:  # the phase starts when the stream's previous phase is done
                        row.links.append((gate, 1, 0))
                    if previous is None:
                        first_of_packages.append(uid)
                    draw = rng.random()
                    if draw < 0.03:
                        row.constraint = (4, 0)  # SNET, date fixed after scheduling
                    elif draw < 0.04:
                        row.constraint = (2, 0)  # MSO, a hard constraint
                    if rng.random() > 0.03:  # a few tasks stay unresourced
                        row.resource = rng.randrange(1, spec.resources + 1)
                    if rng.random() < 0.7:
                        jira_seq += 1
                        row.jira = f"{spec.jira_project}-{jira_seq}"
                        row.points = rng.choice((1, 2, 3, 5, 8))
                    self._add(row)
                    previous = row.uid
                if previous is not None:
                    last_tasks.append(previous)
            uid += 1
            budget -= 1
            milestone = self._add(
                _Row(uid, f"{phase_name} complete", 2, "milestone", f"{phase_no}.{package_no + 1}", phase.uid)
            )
            milestone.links = [(t, 1, 0) for t in last_tasks] or (
                [(previous_milestone, 1, 0)] if previous_milestone is not None else []
            )
            previous_milestone = milestone.uid
            milestones.append(milestone.uid)
        for extra in range(budget):  # rows left over: stand-alone tasks after the last phase
            uid += 1
            row = self._add(
                _Row(uid, f"Lessons learned review {extra + 1}", 1, "task", f"{phase_no + extra + 1}", None)
            )
            row.planned_days = 2
            if previous_milestone is not None:
                row.links.append((previous_milestone, 1, 0))
            row.resource = 1
        # slips are drawn per task up front, so advancing the status date only reveals more of them
        slip_rng = random.Random(self.spec.seed * 7919 + 1)
        for row in self.rows:
            slip = slip_rng.random() < 0.15
            factor = slip_rng.choice((1.2, 1.3, 1.5))
            row.days = row.planned_days
            if slip and row.kind == "task":
                row.days = max(row.planned_days + 1, round(row.planned_days * factor))

    # -- scheduling ------------------------------------------------------------------------------

    def _schedule(self, *, planned: bool) -> None:
        """Forward pass over rows in file order (links only point backwards), then summaries."""
        for row in self.rows:
            if row.kind == "summary":
                continue
            days = row.planned_days if planned else (row.days if self._started(row) else row.planned_days)
            earliest = 0
            for pred_uid, link_type, lag in row.links:
                pred = self.by_uid[pred_uid]
                pred_start = pred.plan_start if planned else pred.start
                pred_finish = pred.plan_finish if planned else pred.finish
                if link_type == 3:
                    earliest = max(earliest, pred_start + lag)
                else:
                    earliest = max(earliest, pred_finish + 1 + lag)
            if row.constraint is not None:
                if planned:
                    row.constraint = (row.constraint[0], earliest + (2 if row.constraint[0] == 4 else 1))
                earliest = max(earliest, row.constraint[1])
            start = earliest
            finish = start + days - 1 if days > 0 else max(start - 1, 0)
            if planned:
                row.plan_start, row.plan_finish = start, finish
            else:
                row.start, row.finish = start, finish
        for row in reversed(self.rows):
            if row.kind == "summary" and row.children:
                kids = [self.by_uid[c] for c in row.children]
                if planned:
                    row.plan_start = min(k.plan_start for k in kids)
                    row.plan_finish = max(k.plan_finish for k in kids)
                else:
                    row.start = min(k.start for k in kids)
                    row.finish = max(k.finish for k in kids)
        if not planned:
            self._slack()

    def _started(self, row: _Row) -> bool:
        return row.plan_start < self.status_index

    def _slack(self) -> None:
        """Total slack in working days: a backward pass from the project finish (links point back)."""
        end = max(r.finish for r in self.rows)
        late_finish = {r.uid: end for r in self.rows if r.kind != "summary"}
        for row in reversed(self.rows):
            if row.kind == "summary":
                continue
            finish = late_finish[row.uid]
            late_start = finish - (row.finish - row.start) if row.kind == "task" else finish + 1
            row.slack = max(finish - row.finish, 0)
            for pred_uid, link_type, lag in row.links:
                pred = self.by_uid[pred_uid]
                pred_span = pred.finish - pred.start if pred.kind == "task" else -1
                # SS: the predecessor starts by our late start - lag; FS: it finishes before it
                limit = late_start - lag + pred_span if link_type == 3 else late_start - 1 - lag
                late_finish[pred_uid] = min(late_finish[pred_uid], limit)
        for row in reversed(self.rows):
            if row.kind == "summary" and row.children:
                row.slack = min(self.by_uid[c].slack for c in row.children)

    # -- figures ----------------------------------------------------------------------------------

    def percent(self, row: _Row) -> int:
        if row.kind == "summary":
            kids = [self.by_uid[c] for c in row.children]
            weight = sum(max(k.days, 1) for k in kids) or 1
            return round(sum(self.percent(k) * max(k.days, 1) for k in kids) / weight)
        if row.start >= self.status_index:
            return 0
        if row.finish < self.status_index:
            return 100
        return min(99, round(100 * (self.status_index - row.start) / max(row.days, 1)))


class _Writer:
    def __init__(self, plan: _Plan, out: IO[str]) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.out = out
        self.rates = {
            i: float(random.Random(self.spec.seed + i).choice((65, 80, 95, 110, 140)))
            for i in range(1, self.spec.resources + 1)
        }

    def at(self, index: int, end: bool = False) -> str:
        day = _workday(self.spec.start, index)
        moment = datetime.combine(day, time(17, 0) if end else time(8, 0))
        return moment.isoformat()

    def figures(self, row: _Row) -> tuple[float, float, float, float, int]:
        """(cost, baseline cost, work, baseline work, percent) of a row, rolled up for summaries."""
        if row.kind == "summary":
            parts = [self.figures(self.plan.by_uid[c]) for c in row.children]
            cost, base_cost, work, base_work = (sum(p[i] for p in parts) for i in range(4))
            return cost, base_cost, work, base_work, self.plan.percent(row)
        rate = self.rates.get(row.resource or 0, 0.0)
        days = row.finish - row.start + 1 if row.kind == "task" else 0
        work = days * MINUTES_PER_DAY if row.resource else 0
        planned_work = row.planned_days * MINUTES_PER_DAY if row.resource else 0
        return work / 60 * rate, planned_work / 60 * rate, work, planned_work, self.plan.percent(row)

    def write(self) -> None:
        spec, plan, w = self.spec, self.plan, self.out.write
        finish = max(r.finish for r in plan.rows)
        w('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
        w('<Project xmlns="http://schemas.microsoft.com/project">\n')
        props: list[tuple[str, object]] = [
            ("SaveVersion", 14),
            ("BuildNumber", "16.0.10730.20102"),
            ("Name", f"{spec.title}.xml"),
            ("Title", spec.title),
            ("Manager", spec.manager),
            ("CreationDate", self.at(0)),
            ("LastSaved", self.at(plan.status_index)),
            ("ScheduleFromStart", 1),
            ("StartDate", self.at(0)),
            ("FinishDate", self.at(finish, True)),
            ("FYStartDate", 1),
            ("CriticalSlackLimit", 0),
            ("CurrencyDigits", 2),
            ("CurrencySymbol", "$"),
            ("CurrencyCode", "USD"),
            ("CurrencySymbolPosition", 0),
            ("CalendarUID", 1),
            ("DefaultStartTime", "08:00:00"),
            ("DefaultFinishTime", "17:00:00"),
            ("MinutesPerDay", MINUTES_PER_DAY),
            ("MinutesPerWeek", 5 * MINUTES_PER_DAY),
            ("DaysPerMonth", 20),
            ("DefaultTaskType", 0),
            ("DurationFormat", 7),
            ("WorkFormat", 2),
            ("HonorConstraints", 0),
            ("MultipleCriticalPaths", 0),
            ("WeekStartDay", 1),
            ("BaselineForEarnedValue", min(spec.baselines) if spec.baselines else 0),
        ]
        if plan.status_index:
            props.append(("StatusDate", self.at(plan.status_index - 1, True)))
        props += [("CurrentDate", self.at(plan.status_index)), ("NewTasksAreManual", 0)]
        w("".join(_el(1, name, value) for name, value in props))
        w("\t<OutlineCodes/>\n\t<WBSMasks/>\n\t<ExtendedAttributes>\n")
        for fid, name, alias in (
            (FIELD_JIRA_KEY, "Text1", "Jira Key"),
            (FIELD_FINANCE_CODE, "Text2", "Finance Code"),
            (FIELD_STORY_POINTS, "Number1", "Story Points"),
        ):
            w(_block(2, "ExtendedAttribute", [("FieldID", fid), ("FieldName", name), ("Alias", alias)]))
        w("\t</ExtendedAttributes>\n")
        self._calendars()
        w("\t<Tasks>\n")
        self._project_summary(finish)
        for row in plan.rows:
            self._task(row)
        w("\t</Tasks>\n")
        self._resources()
        self._assignments()
        w("</Project>\n")

    def _calendars(self) -> None:
        days = []
        for day in range(1, 8):
            if day in (1, 7):  # Sunday, Saturday
                days.append(_block(4, "WeekDay", [("DayType", day), ("DayWorking", 0)]))
                continue
            times = "".join(
                _block(6, "WorkingTime", [("FromTime", start), ("ToTime", end)])
                for start, end in (("08:00:00", "12:00:00"), ("13:00:00", "17:00:00"))
            )
            days.append(
                "\t\t\t\t<WeekDay>\n"
                + _el(5, "DayType", day)
                + _el(5, "DayWorking", 1)
                + f"\t\t\t\t\t<WorkingTimes>\n{times}\t\t\t\t\t</WorkingTimes>\n\t\t\t\t</WeekDay>\n"
            )
        fields = [("UID", 1), ("Name", "Standard"), ("IsBaseCalendar", 1), ("IsBaselineCalendar", 0)]
        self.out.write(
            "\t<Calendars>\n\t\t<Calendar>\n"
            + "".join(_el(3, n, v) for n, v in fields + [("BaseCalendarUID", -1)])
            + "\t\t\t<WeekDays>\n"
            + "".join(days)
            + "\t\t\t</WeekDays>\n\t\t</Calendar>\n\t</Calendars>\n"
        )

    def _project_summary(self, finish: int) -> None:
        plan = self.plan
        top = [r for r in plan.rows if r.level == 1]
        summary = _Row(0, self.spec.title, 0, "summary", "0", None)
        summary.children = [r.uid for r in top]
        summary.start, summary.finish = 0, finish
        summary.plan_start = min(r.plan_start for r in top)
        summary.plan_finish = max(r.plan_finish for r in top)
        summary.days = summary.planned_days = finish + 1
        summary.slack = 0
        self._task(summary)

    def _task(self, row: _Row) -> None:
        plan, spec = self.plan, self.spec
        cost, baseline_cost, work, baseline_work, percent = self.figures(row)
        milestone = row.kind == "milestone"
        start = self.at(row.finish, True) if milestone else self.at(row.start)
        finish = self.at(row.finish, True)
        span = 0 if milestone else (row.finish - row.start + 1) * MINUTES_PER_DAY
        actual_cost = cost * percent / 100
        planned_fraction = 0.0
        if row.plan_finish < plan.status_index:
            planned_fraction = 1.0
        elif row.plan_start < plan.status_index and not milestone:
            planned = max(row.plan_finish - row.plan_start + 1, 1)
            planned_fraction = (plan.status_index - row.plan_start) / planned
        bcws = baseline_cost * planned_fraction if spec.baselines else 0.0
        bcwp = baseline_cost * percent / 100 if spec.baselines else 0.0
        fields: list[tuple[str, object]] = [
            ("UID", row.uid),
            ("ID", row.uid),
            ("Name", row.name),
            ("Active", 1),
            ("Manual", 0),
            ("Type", 1 if row.kind == "summary" else 0),
            ("IsNull", 0),
            ("CreateDate", self.at(0)),
            ("WBS", row.outline),
            ("OutlineNumber", row.outline),
            ("OutlineLevel", row.level),
            ("Priority", 500),
            ("Start", start),
            ("Finish", finish),
            ("Duration", _hours(span)),
            ("DurationFormat", 7),
            ("Work", _hours(work)),
            ("ResumeValid", 0),
            ("EffortDriven", 0),
            ("Recurring", 0),
            ("OverAllocated", 0),
            ("Estimated", 0),
            ("Milestone", int(milestone)),
            ("Summary", int(row.kind == "summary")),
            ("DisplayAsSummary", 0),
            ("Critical", int(row.slack <= 0)),
            ("IsSubproject", 0),
            ("IsSubprojectReadOnly", 0),
            ("ExternalTask", 0),
            ("FreeSlack", 0),
            ("TotalSlack", row.slack * MINUTES_PER_DAY * 10),  # tenths of minutes
            ("FixedCost", 0),
            ("FixedCostAccrual", 3),
            ("PercentComplete", percent),
            ("PercentWorkComplete", percent),
            ("Cost", _money(cost)),
            ("OvertimeCost", 0),
            ("OvertimeWork", "PT0H0M0S"),
        ]
        if percent > 0:
            fields.append(("ActualStart", start))
        if percent >= 100:
            fields.append(("ActualFinish", finish))
        fields += [
            ("ActualDuration", _hours(span * percent / 100)),
            ("ActualCost", _money(actual_cost)),
            ("ActualOvertimeCost", 0),
            ("ActualWork", _hours(work * percent / 100)),
            ("ActualOvertimeWork", "PT0H0M0S"),
            ("RegularWork", _hours(work)),
            ("RemainingDuration", _hours(span * (100 - percent) / 100)),
            ("RemainingCost", _money(cost - actual_cost)),
            ("RemainingWork", _hours(work * (100 - percent) / 100)),
            ("ACWP", f"{actual_cost * 100:.2f}"),
            ("CV", f"{(bcwp - actual_cost) * 100:.2f}"),
            ("ConstraintType", row.constraint[0] if row.constraint else 0),
            ("CalendarUID", -1),
        ]
        if row.constraint is not None:
            fields.append(("ConstraintDate", self.at(row.constraint[1])))
        if milestone:
            fields.append(("Deadline", self.at(row.plan_finish + 5, True)))
        fields += [
            ("LevelAssignments", 1),
            ("LevelingCanSplit", 1),
            ("LevelingDelay", 0),
            ("LevelingDelayFormat", 8),
            ("IgnoreResourceCalendar", 0),
            ("HideBar", 0),
            ("Rollup", 0),
            ("BCWS", f"{bcws * 100:.2f}"),
            ("BCWP", f"{bcwp * 100:.2f}"),
            ("PhysicalPercentComplete", percent),
            ("EarnedValueMethod", 0),
        ]
        parts = ["\t\t<Task>\n", *(_el(3, n, v) for n, v in fields)]
        for pred_uid, link_type, lag in row.links:
            link = [
                ("PredecessorUID", pred_uid),
                ("Type", link_type),
                ("CrossProject", 0),
                ("LinkLag", lag * MINUTES_PER_DAY * 10),  # tenths of minutes
                ("LagFormat", 7),
            ]
            parts.append(_block(3, "PredecessorLink", link))
        parts.append(_el(3, "IsPublished", 1) + _el(3, "CommitmentType", 0))
        for fid, value in self._custom(row):
            parts.append(_block(3, "ExtendedAttribute", [("FieldID", fid), ("Value", value)]))
        for number in self.spec.baselines:
            parts.append(self._baseline(row, number, baseline_cost, baseline_work, milestone))
        parts.append("\t\t</Task>\n")
        self.out.write("".join(parts))

    def _custom(self, row: _Row) -> Iterator[tuple[int, str]]:
        if row.jira:
            yield FIELD_JIRA_KEY, row.jira
        if row.level >= 1:
            phase = row.outline.split(".")[0]
            yield FIELD_FINANCE_CODE, f"{self.spec.finance_code}.{int(phase):02d}"
        if row.points is not None:
            yield FIELD_STORY_POINTS, str(row.points)

    def _baseline(self, row: _Row, number: int, cost: float, work: float, milestone: bool) -> str:
        # Baseline 0 is the plan as approved; older numbered baselines sit a little earlier and cheaper.
        shift = 3 * number
        start = max(row.plan_start - shift, 0)
        finish = max(row.plan_finish - shift, 0)
        span = 0 if milestone else (row.plan_finish - row.plan_start + 1) * MINUTES_PER_DAY
        fields: list[tuple[str, object]] = [
            ("Number", number),
            ("Start", self.at(finish, True) if milestone else self.at(start)),
            ("Finish", self.at(finish, True)),
            ("Duration", _hours(span)),
            ("DurationFormat", 7),
            ("EstimatedDuration", 0),
            ("Work", _hours(work)),
            ("Cost", _money(cost * (1 - 0.02 * number))),
        ]
        return _block(3, "Baseline", fields)

    def _resources(self) -> None:
        parts = [
            "\t<Resources>\n",
            _block(2, "Resource", [("UID", 0), ("ID", 0), ("Type", 1), ("IsNull", 0)]),
        ]
        for uid, rate in self.rates.items():
            name = _PEOPLE[(uid - 1) % len(_PEOPLE)] + ("" if uid <= len(_PEOPLE) else f" {uid}")
            fields: list[tuple[str, object]] = [
                ("UID", uid),
                ("ID", uid),
                ("Name", name),
                ("Type", 1),
                ("IsNull", 0),
                ("Initials", name[0]),
                ("MaxUnits", "1.00"),
                ("StandardRate", f"{rate:g}"),
                ("StandardRateFormat", 2),
                ("CalendarUID", 1),
            ]
            parts.append(_block(2, "Resource", fields))
        parts.append("\t</Resources>\n")
        self.out.write("".join(parts))

    def _assignments(self) -> None:
        w = self.out.write
        w("\t<Assignments>\n")
        uid = 0
        for row in self.plan.rows:
            if row.kind != "task" or row.resource is None:
                continue
            uid += 1
            cost, _, work, _, percent = self.figures(row)
            fields: list[tuple[str, object]] = [
                ("UID", uid),
                ("TaskUID", row.uid),
                ("ResourceUID", row.resource),
                ("PercentWorkComplete", percent),
                ("ActualCost", _money(cost * percent / 100)),
                ("ActualWork", _hours(work * percent / 100)),
                ("Cost", _money(cost)),
                ("Finish", self.at(row.finish, True)),
                ("Start", self.at(row.start)),
                ("Units", 1),
                ("Work", _hours(work)),
            ]
            w(_block(2, "Assignment", fields))
        w("\t</Assignments>\n")


def _el(depth: int, name: str, value: object) -> str:
    return f"{chr(9) * depth}<{name}>{escape(str(value))}</{name}>\n"


def _block(depth: int, name: str, fields: Sequence[tuple[str, object]]) -> str:
    tabs = chr(9) * depth
    return f"{tabs}<{name}>\n" + "".join(_el(depth + 1, n, v) for n, v in fields) + f"{tabs}</{name}>\n"


def _money(amount: float) -> str:
    return f"{round(amount * 100):d}"  # MSPDI currency is in hundredths


def _hours(minutes: float) -> str:
    whole = int(round(minutes))
    return f"PT{whole // 60}H{whole % 60}M0S"


def write_schedule(spec: ScheduleSpec, path: Path) -> Path:
    """Write the schedule of ``spec`` to ``path`` (MSPDI XML, UTF-8); return ``path``."""
    plan = _Plan(spec)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        _Writer(plan, out).write()
    tmp.replace(path)  # readers never see a half-written file
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a realistic, deterministic MSPDI schedule.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weeks", type=int, default=0, help="working weeks elapsed (status date)")
    parser.add_argument("--baselines", type=int, nargs="*", default=[0])
    parser.add_argument("--title", default="ERP Modernisation")
    args = parser.parse_args(argv)
    spec = ScheduleSpec(
        tasks=args.tasks,
        seed=args.seed,
        weeks_elapsed=args.weeks,
        baselines=tuple(args.baselines),
        title=args.title,
    )
    print(write_schedule(spec, args.path))


if __name__ == "__main__":
    main()
