"""The demo's simulated world: the sandbox servers, seeded with the demo portfolio, and what happens
in each system between two monthly syncs (work done, slips, new issues, spend, a finance correction).

Everything is deterministic for a given seed, and stamped with :func:`pmsync.clock.now` so that the
three months the demo replays in a few seconds look like three months to the store.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pmsync import clock
from pmsync.demo.portfolio import (
    DEMO_START,
    PLAN_START,
    PROJECTS,
    UNOWNED_FINANCE_CODE,
    DemoProject,
    in_home,
)
from pmsync.sandbox.finance_gen import HEADER, ExportLine, write_export
from pmsync.sandbox.graph_sharepoint import DEMO_SITE_PATH, seed_demo
from pmsync.sandbox.jira import JiraSandbox
from pmsync.sandbox.jira.data import WORKFLOWS
from pmsync.sandbox.microsoft import MicrosoftSandbox
from pmsync.sandbox.mspdi_gen import ScheduleSpec, write_schedule
from pmsync.sandbox.mspdi_plan import Plan, workday

#: how each month's planned spend splits across categories: (label, GL account, share, suppliers)
SPEND_PLAN = (
    ("Labor", "5110", 0.40, ("Agency Staff",)),
    ("Consulting Services", "5410", 0.30, ("Accenture Federal Services", "Deloitte Consulting LLP")),
    ("Hardware", "5210", 0.15, ("Dell Technologies", "CDW Government LLC")),
    ("Software", "5310", 0.10, ("Carahsoft Technology Corp", "SHI International Corp")),
)
CONTINGENCY_SHARE = 0.05
#: Jira issue types that are detail work (epics are parents; RAID types are not work)
_DETAIL_TYPES = ("Story", "Task", "Bug", "Sub-task")
_DELIVERY = WORKFLOWS["delivery"]


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    """A clock that shows ``moment`` (the sandbox Jira stamps changes with its clock)."""
    return lambda: moment


PHASES = ("Initiation", "Design", "Build", "Test", "Deploy", "Closeout")
SHAREPOINT_HOST = "contoso.sharepoint.com"
GRAPH_GROUP_ID = "b320ee12-b1cd-4cca-b648-a437be61c5cd"
#: where the demo keeps the sandbox's secrets, relative to its pmsync.yaml (files of mode 0600)
JIRA_TOKEN_FILE = "secrets/jira-api-token"
CLIENT_SECRET_FILE = "secrets/client-secret"


def _weeks(start: date, moment: datetime) -> int:
    return max(0, (moment.date() - start).days // 7)


def _months_between(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


@dataclass
class _PlannedTask:
    """A task of a Planner plan or a Dataverse project, as the demo moves it along."""

    task_id: str
    title: str
    start: date
    due: date
    done: bool = False


@dataclass
class DemoWorld:
    """Start with :meth:`start`, move with :meth:`advance_to`, stop with :meth:`stop`."""

    workdir: Path
    issues_per_project: int = 120
    seed: int = 2026
    jira: JiraSandbox = field(init=False)
    microsoft: MicrosoftSandbox = field(init=False)
    schedules: dict[str, ScheduleSpec] = field(default_factory=dict, init=False)
    planner_tasks: dict[str, list[_PlannedTask]] = field(default_factory=dict, init=False)
    dataverse_tasks: dict[str, list[_PlannedTask]] = field(default_factory=dict, init=False)
    finance_months_written: set[date] = field(default_factory=set, init=False)
    phase_counts: dict[str, int] = field(default_factory=dict, init=False)
    #: when the Jira teams last finished work (their weekly throughput runs from here)
    jira_moment: datetime = field(default=DEMO_START, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.schedule_dir = self.workdir / "schedules"
        self.finance_dir = self.workdir / "finance"

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> DemoWorld:
        jira_projects = [(p.source_key, p.name) for p in in_home("jira")]
        self.jira = JiraSandbox(
            jira_projects, self.issues_per_project, seed=self.seed, anchor=DEMO_START, clock=clock.now
        ).start()
        self.microsoft = MicrosoftSandbox(self.workdir / "sandbox", seed=False).start()
        seed_demo(self.microsoft.graph_state.sharepoint)
        self._seed_planner()
        self._seed_dataverse()
        self._write_schedules()
        self._write_budget()
        self._write_actuals_until(clock.now())
        return self

    def stop(self) -> None:
        for server in (getattr(self, "jira", None), getattr(self, "microsoft", None)):
            if server is not None:
                server.stop()

    # -- one month of project life ---------------------------------------------------------------
    def advance_to(self, moment: datetime, *, correction_of: date | None = None) -> None:
        """What happened in every system up to ``moment`` (the clock is already there)."""
        self._finish_jira_items_weekly(moment)
        self._replan_late_jira_items(moment)
        # About a sixth of the Jira issues move on each month, and each project gains new stories.
        self.jira.touch(len(in_home("jira")) * self.issues_per_project // 6)
        for project in in_home("jira"):
            self.jira.create(project.source_key, count=3)
        self._write_schedules()
        self._move_tasks(moment)
        self._write_actuals_until(moment, correction_of=correction_of)

    def first_days(self) -> None:
        """The first working days of a new month, before the committee pack is built: Jira issues move
        on and new ones are filed, stamped by the (simulated) clock. Valid after the status date, none of it
        belongs in the closed month's report (Jira's changelog says when each change happened)."""
        for project in in_home("jira"):
            self.jira.create(project.source_key, count=1)
        self.jira.touch(len(in_home("jira")) * 2)

    # -- Jira --------------------------------------------------------------------------------------
    def _finish_jira_items_weekly(self, moment: datetime) -> None:
        """Each week since the last advance, every Jira team finishes about ``weekly_done`` (± 1) of its
        most advanced open detail items, stamped on that week's end: a throughput to forecast from (done
        only at month ends, a backlog would show a throughput of zero in three weeks out of four)."""
        data = self.jira.data
        start = self.jira_moment
        weeks = max(1, (moment - start).days // 7)
        real_clock = data.clock
        try:
            for week in range(1, weeks + 1):
                at = start + (moment - start) * week / weeks
                data.clock = _stopped_at(at)
                for project in in_home("jira"):
                    open_items = []
                    for key in data.live_keys([project.source_key]):
                        state = data.find(key)
                        if state is None or state.type not in _DETAIL_TYPES:
                            continue
                        stage = _DELIVERY.index(state.status) if state.status in _DELIVERY else 0
                        if stage < len(_DELIVERY) - 1:
                            open_items.append((-stage, state.number, key))
                    # Teams vary from week to week (one item more or less), so the forecast has a range.
                    wobble = random.Random(f"{self.seed}-{project.key}-{at:%Y-%m-%d}").choice((-1, 0, 1))
                    done = max(project.weekly_done + wobble, 0) if project.weekly_done else 0
                    for _, _, key in sorted(open_items)[:done]:
                        while (state := data.find(key)) is not None and state.status != _DELIVERY[-1]:
                            data.update(key)
        finally:
            data.clock = real_clock
        self.jira_moment = moment

    def _replan_late_jira_items(self, moment: datetime) -> None:
        """Teams of slipping Jira projects (``slip_weeks``) re-plan their open items whose target has
        passed, ``4 × slip_weeks`` weeks out: the new plan a re-baseline then approves (GRANTS'
        CR-2026-014), so the original and the current baseline finish differ as they do in life."""
        data = self.jira.data
        for project in in_home("jira"):
            if not project.slip_weeks or project.home != "jira":
                continue
            new_target = (moment + timedelta(weeks=4 * project.slip_weeks)).date().isoformat()
            for key in data.live_keys([project.source_key]):
                state = data.find(key)
                if state is None or state.type not in _DETAIL_TYPES or state.status == _DELIVERY[-1]:
                    continue
                target = state.target_end or state.due_date
                if target is not None and target < moment.date().isoformat():
                    data.edit(
                        key,
                        target_end=new_target if state.target_end else None,
                        due_date=new_target if state.due_date else None,
                    )

    def jira_source(self) -> dict[str, Any]:
        settings = self.jira.source_settings()
        settings.pop("api_token", None)
        return {"name": "jira", "type": "jira", **settings, "api_token_file": JIRA_TOKEN_FILE}

    # -- Microsoft Project -------------------------------------------------------------------------
    def _write_schedules(self) -> None:
        self.schedule_dir.mkdir(parents=True, exist_ok=True)
        for index, project in enumerate(in_home("msproject")):
            spec = self.schedules.get(project.key) or ScheduleSpec(
                tasks=140 if project.tier == "large" else 70,
                seed=self.seed + index,
                title=project.name,
                manager=project.manager,
                start=PLAN_START,
                jira_project=project.key if "jira" in project.home else "",
                finance_code=project.finance_code,
                baselines=(0,),
            )
            spec = replace(spec, weeks_elapsed=_weeks(PLAN_START, clock.now()))
            self.schedules[project.key] = spec
            write_schedule(spec, self.schedule_dir / self.schedule_file(project))
            if "jira" in project.home:
                self._keep_jira_in_step(spec)

    def _keep_jira_in_step(self, spec: ScheduleSpec) -> None:
        """The ERP team keeps each Jira issue its schedule links to in step with the task: same finish
        date, done when the task is done, in progress while it runs. One issue is deliberately left
        behind (done in Jira while its task is still in progress), the one mismatch the demo means to
        show; otherwise a Jira generated independently of the schedule would disagree everywhere."""
        plan = Plan(spec)
        data = self.jira.data
        planted = False
        for row in plan.rows:
            if (
                not row.jira
                or (state := data.find(row.jira)) is None
                or state.type not in _DETAIL_TYPES + ("Epic",)
            ):
                continue
            finish = workday(spec.start, row.finish).isoformat()
            percent = plan.percent(row)
            status = _DELIVERY[-1] if percent >= 100 else _DELIVERY[1] if percent > 0 else _DELIVERY[0]
            if not planted and 0 < percent < 100 and row.kind == "task":
                status, planted = _DELIVERY[-1], True
            data.edit(row.jira, status=status, due_date=finish, target_end=finish)

    @staticmethod
    def schedule_file(project: DemoProject) -> str:
        return project.source_key if project.source_key.endswith(".xml") else f"{project.key.lower()}.xml"

    # -- Planner and Dataverse ----------------------------------------------------------------------
    def _task_plan(self, project: DemoProject) -> list[tuple[str, str, date, date]]:
        """(phase, title, start, due) for a plan spread over the project's weeks."""
        rows = []
        per_phase = 3
        span = project.weeks * 7
        for p_index, phase in enumerate(PHASES):
            for t_index in range(per_phase):
                n = p_index * per_phase + t_index
                start = PLAN_START + timedelta(days=span * n // (len(PHASES) * per_phase))
                due = PLAN_START + timedelta(days=span * (n + 1) // (len(PHASES) * per_phase) - 1)
                title = f"{phase}: {('scope and plan', 'execute', 'review and sign-off')[t_index]}"
                rows.append((phase, title, start, due))
        rows.append(("Closeout", "Go-live", rows[-1][3], rows[-1][3]))
        return rows

    def _seed_planner(self) -> None:
        planner = self.microsoft.graph_state.planner
        users = [u.object_id for u in self.microsoft.identity_state.users.values()]
        for project in in_home("planner"):
            plan_id = planner.add_plan(GRAPH_GROUP_ID, project.source_key)
            buckets = {phase: planner.add_bucket(plan_id, phase) for phase in PHASES}
            tasks = []
            for n, (phase, title, start, due) in enumerate(self._task_plan(project)):
                task_id = planner.add_task(
                    plan_id,
                    title,
                    bucket_id=buckets[phase],
                    start=start,
                    due=due,
                    assignees=[users[n % len(users)]] if users else [],
                    created_by=users[0] if users else None,
                )
                tasks.append(_PlannedTask(task_id, title, start, due))
            self.planner_tasks[project.key] = tasks
        self._move_tasks(clock.now())

    def _seed_dataverse(self) -> None:
        dataverse = self.microsoft.dataverse_state
        for project in in_home("dataverse"):
            plan = self._task_plan(project)
            project_id = dataverse.add_project(
                project.source_key, start=PLAN_START, finish=plan[-1][3], manager=project.manager
            )
            tasks, previous, sequence = [], None, 1.0
            for p_index, phase in enumerate(PHASES):
                phase_rows = [row for row in plan if row[0] == phase]
                summary = dataverse.add_task(
                    project_id,
                    phase,
                    outline_level=1,
                    sequence=sequence,
                    summary=True,
                    start=phase_rows[0][2],
                    finish=phase_rows[-1][3],
                    wbs=str(p_index + 1),
                )
                sequence += 1
                for t_index, (_, title, start, due) in enumerate(phase_rows):
                    task_id = dataverse.add_task(
                        project_id,
                        title,
                        outline_level=2,
                        sequence=sequence,
                        parent=summary,
                        start=start,
                        finish=due,
                        effort=80.0,
                        milestone=title == "Go-live",
                        wbs=f"{p_index + 1}.{t_index + 1}",
                    )
                    sequence += 1
                    if previous is not None:
                        dataverse.add_dependency(project_id, previous, task_id)
                    previous = task_id
                    tasks.append(_PlannedTask(task_id, title, start, due))
            self.dataverse_tasks[project.key] = tasks

    def _move_tasks(self, moment: datetime) -> None:
        """Progress what is due, and slip the unfinished work of projects that slip."""
        today = moment.date()
        by_key = {p.key: p for p in PROJECTS}
        for key, tasks in [*self.planner_tasks.items(), *self.dataverse_tasks.items()]:
            project = by_key[key]
            planner = key in self.planner_tasks
            for task in tasks:
                if task.done:
                    continue
                if project.slip_weeks and task.due >= today - timedelta(days=30):
                    task.due += timedelta(weeks=project.slip_weeks)
                    if task.start > today:
                        task.start += timedelta(weeks=project.slip_weeks)
                if task.due < today:
                    task.done = True
                    fraction = 1.0
                elif task.start <= today:
                    fraction = (today - task.start).days / max(1, (task.due - task.start).days)
                else:
                    fraction = 0.0
                if planner:
                    self.microsoft.graph_state.planner.update_task(
                        task.task_id,
                        percentComplete=100 if fraction >= 1 else (50 if fraction > 0 else 0),
                        dueDateTime=f"{task.due:%Y-%m-%d}T17:00:00Z",
                        startDateTime=f"{task.start:%Y-%m-%d}T08:00:00Z",
                    )
                else:
                    self.microsoft.dataverse_state.update(
                        "msdyn_projecttasks",
                        task.task_id,
                        msdyn_progress=round(min(1.0, fraction), 2),
                        msdyn_scheduledend=f"{task.due:%Y-%m-%d}T17:00:00Z",
                        msdyn_scheduledstart=f"{task.start:%Y-%m-%d}T08:00:00Z",
                    )

    # -- finance exports ---------------------------------------------------------------------------
    @staticmethod
    def monthly_plan(project: DemoProject) -> float:
        return project.budget / math.ceil(project.weeks / 4.345)

    def _project_months(self, project: DemoProject) -> list[date]:
        finish = PLAN_START + timedelta(weeks=project.weeks)
        return _months_between(PLAN_START, finish)

    def _write_budget(self) -> None:
        lines = []
        for project in PROJECTS:
            months = self._project_months(project)
            for month in months:
                for label, account, share, _ in SPEND_PLAN:
                    amount = _money(project.budget * (1 - CONTINGENCY_SHARE) * share / len(months))
                    lines.append(
                        ExportLine(
                            project.finance_code,
                            "1.0",
                            account,
                            label,
                            "Budget",
                            month,
                            month,
                            amount,
                            "",
                            "",
                            f"Approved budget {label.lower()}",
                        )
                    )
            lines.append(
                ExportLine(
                    project.finance_code,
                    "9.0",
                    "5910",
                    "Contingency",
                    "Budget",
                    months[0],
                    months[0],
                    _money(project.budget * CONTINGENCY_SHARE),
                    "",
                    "",
                    "Management reserve",
                )
            )
        self.finance_dir.mkdir(parents=True, exist_ok=True)
        write_export(self.finance_dir / "pa-budget.csv", iter(lines))

    def _month_lines(self, month: date, rng: random.Random) -> list[ExportLine]:
        lines = []
        for project in PROJECTS:
            if month not in self._project_months(project):
                continue
            planned = self.monthly_plan(project) * (1 - CONTINGENCY_SHARE) * project.spend_pace
            for label, account, share, suppliers in SPEND_PLAN:
                total = planned * share * rng.uniform(0.9, 1.1)
                parts = 2 if label != "Labor" else 1
                for part in range(parts):
                    supplier = suppliers[part % len(suppliers)]
                    day = month.replace(day=min(27, 5 + 9 * part))
                    po = "" if label == "Labor" else f"PO-{month:%y%m}-{rng.randrange(1000, 9999)}"
                    lines.append(
                        ExportLine(
                            project.finance_code,
                            self._task_code(project, rng),
                            account,
                            label,
                            "Actual",
                            month,
                            day,
                            _money(total / parts),
                            supplier,
                            po,
                            "Timesheet hours"
                            if label == "Labor"
                            else f"Invoice {rng.randrange(10000, 99999)}",
                        )
                    )
                if label in ("Hardware", "Software") and rng.random() < 0.5:
                    po = f"PO-{month:%y%m}-{rng.randrange(1000, 9999)}"
                    lines.append(
                        ExportLine(
                            project.finance_code,
                            self._task_code(project, rng),
                            account,
                            label,
                            "Commitment",
                            month,
                            month.replace(day=20),
                            _money(planned * share * 0.8),
                            suppliers[0],
                            po,
                            f"Open PO {po}",
                        )
                    )
        # Spend booked to a code no project owns: reconcile should flag it.
        lines.append(
            ExportLine(
                UNOWNED_FINANCE_CODE,
                "1.1",
                "5410",
                "Consulting Services",
                "Actual",
                month,
                month.replace(day=12),
                _money(18_500),
                "Gartner Inc",
                f"PO-{month:%y%m}-0001",
                "Advisory retainer",
            )
        )
        return lines

    def _task_code(self, project: DemoProject, rng: random.Random) -> str:
        """A finance task code; scheduled projects book to their phases' codes (``P-101.02``), the
        codes their MS Project tasks carry, so reconcile can link spend to the schedule."""
        if "msproject" in project.home:
            return f"{project.finance_code}.{rng.randrange(1, self._phases(project) + 1):02d}"
        return f"{rng.randrange(1, 6)}.1"

    def _phases(self, project: DemoProject) -> int:
        """How many phases the project's schedule has (its tasks carry codes .01 up to that)."""
        if project.key not in self.phase_counts:
            plan = Plan(self.schedules[project.key])
            self.phase_counts[project.key] = sum(1 for row in plan.rows if row.level == 1) or 1
        return self.phase_counts[project.key]

    def _write_actuals_until(self, moment: datetime, *, correction_of: date | None = None) -> None:
        """One export per closed month up to ``moment``; a correction restates an earlier month."""
        for month in _months_between(PLAN_START, moment.date()):
            next_month = (month + timedelta(days=32)).replace(day=1)
            # A month's export is there from its last working days on; an open month has none yet.
            if (next_month - moment.date()).days > 3 or month in self.finance_months_written:
                continue
            rng = random.Random(f"{self.seed}-{month}")
            lines = self._month_lines(month, rng)
            write_export(self.finance_dir / f"pa-costs-{month:%Y-%m}.csv", iter(lines))
            self.finance_months_written.add(month)
        if correction_of is not None:
            # The ERP month is reopened: its actuals are restated (one invoice was booked twice).
            rng = random.Random(f"{self.seed}-{correction_of}")
            original = [
                line
                for line in self._month_lines(correction_of, rng)
                if line.project == PROJECTS[0].finance_code and line.kind == "Actual"
            ]
            restated = original[:1] + original[2:]
            path = self.finance_dir / f"pa-costs-{correction_of:%Y-%m}-restated.csv"
            write_export(path, iter(restated))

    # -- SharePoint --------------------------------------------------------------------------------
    def publish_target(self) -> dict[str, Any]:
        settings = {k: v for k, v in self.microsoft.settings().items() if k != "client_secret"}
        return {
            "name": "sharepoint",
            "type": "sharepoint",
            "site_url": f"https://{SHAREPOINT_HOST}{DEMO_SITE_PATH}",
            "library": "Documents",
            "folder": "Oversight/{period}",
            **settings,
            "client_secret_file": CLIENT_SECRET_FILE,
        }

    def planner_source(self) -> dict[str, Any]:
        source = self.microsoft.planner_source(group_ids=[GRAPH_GROUP_ID])
        source.pop("client_secret", None)
        return {**source, "client_secret_file": CLIENT_SECRET_FILE}

    def dataverse_source(self) -> dict[str, Any]:
        source = self.microsoft.dataverse_source()
        source.pop("client_secret", None)
        return {**source, "client_secret_file": CLIENT_SECRET_FILE}

    def write_secrets(self) -> list[Path]:
        """The secrets the demo's pmsync.yaml points at (``*_file`` keys), each in a file only its owner
        can read, so every command the demo suggests afterwards works without exporting anything."""
        written = []
        for name, secret in (
            (JIRA_TOKEN_FILE, self.jira.api_token),
            (CLIENT_SECRET_FILE, self.microsoft.credentials.client_secret),
        ):
            path = self.workdir / name
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secret + "\n")
            os.chmod(path, 0o600)  # O_CREAT's mode does not narrow a file that already existed
            written.append(path)
        return written


__all__ = ["HEADER", "DemoWorld"]
