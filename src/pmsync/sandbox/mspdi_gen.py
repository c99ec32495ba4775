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
from datetime import datetime, time
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from pmsync.sandbox.mspdi_plan import (
    FIELD_FINANCE_CODE,
    FIELD_JIRA_KEY,
    FIELD_STORY_POINTS,
    MAX_TASKS,
    MIN_TASKS,
    MINUTES_PER_DAY,
    Plan,
    PlannedRow,
    ScheduleSpec,
    advance,
    people,
    workday,
)

__all__ = ["MAX_TASKS", "MIN_TASKS", "ScheduleSpec", "advance", "main", "write_schedule"]


class _Writer:
    def __init__(self, plan: Plan, out: IO[str]) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.out = out
        self.rates = {
            i: float(random.Random(self.spec.seed + i).choice((65, 80, 95, 110, 140)))
            for i in range(1, self.spec.resources + 1)
        }

    def at(self, index: int, end: bool = False) -> str:
        day = workday(self.spec.start, index)
        moment = datetime.combine(day, time(17, 0) if end else time(8, 0))
        return moment.isoformat()

    def figures(self, row: PlannedRow) -> tuple[float, float, float, float, int]:
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
        summary = PlannedRow(0, self.spec.title, 0, "summary", "0", None)
        summary.children = [r.uid for r in top]
        summary.start, summary.finish = 0, finish
        summary.plan_start = min(r.plan_start for r in top)
        summary.plan_finish = max(r.plan_finish for r in top)
        summary.days = summary.planned_days = finish + 1
        summary.slack = 0
        self._task(summary)

    def _task(self, row: PlannedRow) -> None:
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

    def _custom(self, row: PlannedRow) -> Iterator[tuple[int, str]]:
        if row.jira:
            yield FIELD_JIRA_KEY, row.jira
        if row.level >= 1:
            phase = row.outline.split(".")[0]
            yield FIELD_FINANCE_CODE, f"{self.spec.finance_code}.{int(phase):02d}"
        if row.points is not None:
            yield FIELD_STORY_POINTS, str(row.points)

    def _baseline(self, row: PlannedRow, number: int, cost: float, work: float, milestone: bool) -> str:
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
            name = people(uid)
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
    plan = Plan(spec)
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
