"""The plan behind a generated schedule: its rows (phases, work packages, tasks, milestones), their
links and constraints, and a forward/backward pass over working days that gives every row its dates,
progress and slack as of the status date. :mod:`pmsync.sandbox.mspdi_gen` writes it as MSPDI XML.

Everything is drawn from ``random.Random(spec.seed)``, so the same spec always gives the same plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from pmsync.sandbox.jira.data import ISSUE_TYPES, issue_type_of

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
#: Jira issue types that are RAID records, not work a schedule task can detail
RAID_TYPES = frozenset(name for name, (_, _, _, workflow) in ISSUE_TYPES.items() if workflow == "raid")
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


def people(uid: int) -> str:
    """The name of resource ``uid`` (1-based); names repeat with a number past the list."""
    name = _PEOPLE[(uid - 1) % len(_PEOPLE)]
    return name if uid <= len(_PEOPLE) else f"{name} {uid}"


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
class PlannedRow:
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


def workday(start: date, index: int) -> date:
    weeks, rem = divmod(index, 5)
    return start + timedelta(days=7 * weeks + rem)


class Plan:
    def __init__(self, spec: ScheduleSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.rows: list[PlannedRow] = []
        self.by_uid: dict[int, PlannedRow] = {}
        self.status_index = spec.weeks_elapsed * 5
        self._build()
        self._schedule(planned=True)
        self._schedule(planned=False)

    # -- structure --------------------------------------------------------------------------------

    def _add(self, row: PlannedRow) -> PlannedRow:
        self.rows.append(row)
        self.by_uid[row.uid] = row
        if row.parent is not None:
            self.by_uid[row.parent].children.append(row.uid)
        return row

    def _build(self) -> None:
        spec, rng = self.spec, self.rng
        budget = spec.tasks
        uid = 0
        self._jira_seq = 0
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
            phase = self._add(PlannedRow(uid, phase_name, 1, "summary", f"{phase_no}", None))
            budget -= 1
            last_tasks: list[int] = []
            first_of_packages: list[int] = []
            gate = milestones[-streams] if len(milestones) >= streams else None
            package_no = 0
            while budget > 2 and package_no < spec.packages_per_phase:
                package_no += 1
                uid += 1
                package = self._add(
                    PlannedRow(
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
                    row = PlannedRow(uid, name, 3, "task", f"{phase_no}.{package_no}.{task_no}", package.uid)
                    self._draw_task(row, previous, first_of_packages[-1:], gate)
                    if previous is None:
                        first_of_packages.append(uid)
                    self._add(row)
                    previous = row.uid
                if previous is not None:
                    last_tasks.append(previous)
            uid += 1
            budget -= 1
            milestone = self._add(
                PlannedRow(
                    uid, f"{phase_name} complete", 2, "milestone", f"{phase_no}.{package_no + 1}", phase.uid
                )
            )
            milestone.links = [(t, 1, 0) for t in last_tasks] or (
                [(previous_milestone, 1, 0)] if previous_milestone is not None else []
            )
            previous_milestone = milestone.uid
            milestones.append(milestone.uid)
        for extra in range(budget):  # rows left over: stand-alone tasks after the last phase
            uid += 1
            row = self._add(
                PlannedRow(
                    uid, f"Lessons learned review {extra + 1}", 1, "task", f"{phase_no + extra + 1}", None
                )
            )
            row.planned_days = 2
            if previous_milestone is not None:
                row.links.append((previous_milestone, 1, 0))
            row.resource = 1
        self._draw_slips()

    def _draw_task(
        self, row: PlannedRow, previous: int | None, package_before: list[int], gate: int | None
    ) -> None:
        """A task's duration, links, constraint, resource and Jira key, drawn in a fixed order (the
        generated schedules must stay the same for a seed). ``package_before`` holds the first task of
        the previous package in this phase, if any; ``gate`` the milestone the phase waits for."""
        spec, rng = self.spec, self.rng
        row.planned_days = rng.choice((1, 2, 3, 5, 5, 8, 10, 15))
        if rng.random() < 0.02:
            row.planned_days = rng.choice((45, 60))  # a DCMA "high duration" task
        if previous is not None:
            if rng.random() < 0.12:
                row.links.append((previous, 3, rng.choice((1, 2))))  # SS with lag
            else:
                lag = rng.choice((0, 0, 0, 0, 0, 0, 1, 2)) if rng.random() > 0.01 else -1
                row.links.append((previous, 1, lag))  # FS (lag, or a rare lead)
        elif package_before:  # packages overlap: start 3 days after the previous one
            row.links.append((package_before[-1], 3, 3))
        elif gate is not None:  # the phase starts when the stream's previous phase is done
            row.links.append((gate, 1, 0))
        draw = rng.random()
        if draw < 0.03:
            row.constraint = (4, 0)  # SNET, date fixed after scheduling
        elif draw < 0.04:
            row.constraint = (2, 0)  # MSO, a hard constraint
        if rng.random() > 0.03:  # a few tasks stay unresourced
            row.resource = rng.randrange(1, spec.resources + 1)
        # Draw first, so a schedule without a Jira project is otherwise the same schedule.
        if rng.random() < 0.7 and spec.jira_project:
            self._jira_seq += 1
            # a schedule task details delivery work, never a risk or a decision
            while issue_type_of(self._jira_seq) in RAID_TYPES:
                self._jira_seq += 1
            row.jira = f"{spec.jira_project}-{self._jira_seq}"
            row.points = rng.choice((1, 2, 3, 5, 8))

    def _draw_slips(self) -> None:
        # Slips are drawn per task up front, so advancing the status date only reveals more of them
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

    def _started(self, row: PlannedRow) -> bool:
        return row.plan_start < self.status_index

    def _slack(self) -> None:
        """Total slack in working days: a backward pass from the project finish (links point back)."""
        end = max(r.finish for r in self.rows)
        late_finish = {r.uid: end for r in self.rows if r.kind != "summary"}
        for row in reversed(self.rows):
            if row.kind == "summary":
                continue
            finish = late_finish[row.uid]
            if row.constraint is not None and row.constraint[0] == 2:
                finish = min(finish, row.finish)  # Must Start On pins the late dates too: no slack
            if row.kind == "milestone":
                # the deadline mspdi_gen writes (planned finish + 5): Project counts a deadline as a
                # late-finish limit, so it bounds total slack
                finish = min(finish, row.plan_finish + 5)
            late_start = finish - (row.finish - row.start) if row.kind == "task" else finish + 1
            row.slack = finish - row.finish  # negative past a missed deadline, as in Project
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

    def percent(self, row: PlannedRow) -> int:
        if row.kind == "summary":
            kids = [self.by_uid[c] for c in row.children]
            weight = sum(max(k.days, 1) for k in kids) or 1
            return round(sum(self.percent(k) * max(k.days, 1) for k in kids) / weight)
        if row.start >= self.status_index:
            return 0
        if row.finish < self.status_index:
            return 100
        return min(99, round(100 * (self.status_index - row.start) / max(row.days, 1)))
