"""Writes the hand-made MSPDI test files in this folder (run it only to change them; they are committed).

Each file is written the way Project 2016-2021 writes "XML Format (*.xml)": the same namespace, the
same element names in the same order, currency in hundredths, durations as PT..H..M..S, LinkLag in
tenths of minutes, slack in tenths of minutes. The values are chosen by hand; the tests state the
expected values independently (and cross-check them with MPXJ).

    python tests/msproject/data/write_fixtures.py
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
DAY = 480  # minutes per working day

TEXT1, TEXT2, TEXT3, NUMBER1, FLAG1, COST1, DATE1 = (
    188743731,
    188743734,
    188743737,
    188743767,
    188743752,
    188743786,
    188743945,
)


@dataclass
class T:
    uid: int
    name: str | None
    level: int
    start: str = ""
    finish: str = ""
    minutes: int = 0
    duration_format: int = 7
    summary: bool = False
    milestone: bool = False
    manual: bool = False
    null: bool = False
    percent: int = 0
    physical: int = 0
    cost: int = 0  # whole currency units
    actual_cost: int = 0
    work_h: float = 0
    actual_work_h: float = 0
    actual_start: str | None = None
    actual_finish: str | None = None
    constraint: tuple[int, str] | None = None
    deadline: str | None = None
    critical: bool = False
    slack_days: float = 0
    links: list[tuple[int, int, int, int]] = field(default_factory=list)  # uid, type, LinkLag, LagFormat
    ext: list[tuple[int, str]] = field(default_factory=list)
    baselines: list[tuple[int, str, str, int, int, float]] = field(
        default_factory=list
    )  # n, s, f, min, cost, work h
    bcws: float = 0
    bcwp: float = 0
    outline: str = ""


def hours(minutes: float) -> str:
    m = int(round(minutes))
    return f"PT{m // 60}H{m % 60}M0S"


def el(depth: int, name: str, value: object) -> str:
    return "\t" * depth + f"<{name}>{escape(str(value))}</{name}>\n"


def task_xml(t: T, wbs: str) -> str:
    if t.null:
        return (
            "\t\t<Task>\n"
            + el(3, "UID", t.uid)
            + el(3, "ID", t.uid)
            + el(3, "Type", 0)
            + el(3, "IsNull", 1)
            + el(3, "CreateDate", "2026-02-20T09:12:00")
            + el(3, "OutlineLevel", 0)
            + el(3, "Priority", 500)
            + "\t\t</Task>\n"
        )
    f: list[tuple[str, object]] = [
        ("UID", t.uid),
        ("GUID", f"4F6B2C1E-0A3D-EF11-9C7A-00155D{t.uid:06X}"),
        ("ID", t.uid),
    ]
    if t.name is not None:
        f.append(("Name", t.name))
    f += [
        ("Active", 1),
        ("Manual", int(t.manual)),
        ("Type", 1 if t.summary else 0),
        ("IsNull", 0),
        ("CreateDate", "2026-02-20T09:12:00"),
        ("WBS", wbs),
        ("OutlineNumber", wbs),
        ("OutlineLevel", t.level),
        ("Priority", 500),
    ]
    if t.manual:
        f += [("StartText", ""), ("FinishText", ""), ("DurationText", "")]
    f += [("Start", t.start), ("Finish", t.finish), ("Duration", hours(t.minutes))]
    if t.manual:
        f += [("ManualStart", t.start), ("ManualFinish", t.finish), ("ManualDuration", hours(t.minutes))]
    f += [
        ("DurationFormat", 53 if t.summary else t.duration_format),
        ("Work", hours(t.work_h * 60)),
        ("ResumeValid", 0),
        ("EffortDriven", 0),
        ("Recurring", 0),
        ("OverAllocated", 0),
        ("Estimated", 0),
        ("Milestone", int(t.milestone)),
        ("Summary", int(t.summary)),
        ("DisplayAsSummary", 0),
        ("Critical", int(t.critical)),
        ("IsSubproject", 0),
        ("IsSubprojectReadOnly", 0),
        ("ExternalTask", 0),
        ("EarlyStart", t.start),
        ("EarlyFinish", t.finish),
        ("LateStart", t.start),
        ("LateFinish", t.finish),
        ("StartVariance", 0),
        ("FinishVariance", 0),
        ("WorkVariance", "0.00"),
        ("FreeSlack", 0),
        ("TotalSlack", int(t.slack_days * DAY * 10)),
        ("StartSlack", 0),
        ("FinishSlack", 0),
        ("FixedCost", 0),
        ("FixedCostAccrual", 3),
        ("PercentComplete", t.percent),
        ("PercentWorkComplete", t.percent),
        ("Cost", t.cost * 100),
        ("OvertimeCost", 0),
        ("OvertimeWork", "PT0H0M0S"),
    ]
    if t.actual_start:
        f.append(("ActualStart", t.actual_start))
    if t.actual_finish:
        f.append(("ActualFinish", t.actual_finish))
    f += [
        ("ActualDuration", hours(t.minutes * t.percent / 100)),
        ("ActualCost", t.actual_cost * 100),
        ("ActualOvertimeCost", 0),
        ("ActualWork", hours(t.actual_work_h * 60)),
        ("ActualOvertimeWork", "PT0H0M0S"),
        ("RegularWork", hours(t.work_h * 60)),
        ("RemainingDuration", hours(t.minutes * (100 - t.percent) / 100)),
        ("RemainingCost", (t.cost - t.actual_cost) * 100),
        ("RemainingWork", hours((t.work_h - t.actual_work_h) * 60)),
        ("RemainingOvertimeCost", 0),
        ("RemainingOvertimeWork", "PT0H0M0S"),
        ("ACWP", f"{t.actual_cost * 100:.2f}"),
        ("CV", f"{(t.bcwp - t.actual_cost) * 100:.2f}"),
        ("ConstraintType", t.constraint[0] if t.constraint else 0),
        ("CalendarUID", -1),
    ]
    if t.constraint:
        f.append(("ConstraintDate", t.constraint[1]))
    if t.deadline:
        f.append(("Deadline", t.deadline))
    f += [
        ("LevelAssignments", 1),
        ("LevelingCanSplit", 1),
        ("LevelingDelay", 0),
        ("LevelingDelayFormat", 8),
        ("IgnoreResourceCalendar", 0),
        ("HideBar", 0),
        ("Rollup", 0),
        ("BCWS", f"{t.bcws * 100:.2f}"),
        ("BCWP", f"{t.bcwp * 100:.2f}"),
        ("PhysicalPercentComplete", t.physical),
        ("EarnedValueMethod", 0),
    ]
    out = ["\t\t<Task>\n"] + [el(3, k, v) for k, v in f]
    for uid, link_type, lag, lag_format in t.links:
        out.append(
            "\t\t\t<PredecessorLink>\n"
            + el(4, "PredecessorUID", uid)
            + el(4, "Type", link_type)
            + el(4, "CrossProject", 0)
            + el(4, "LinkLag", lag)
            + el(4, "LagFormat", lag_format)
            + "\t\t\t</PredecessorLink>\n"
        )
    out.append(el(3, "IsPublished", 1) + el(3, "CommitmentType", 0))
    for fid, value in t.ext:
        out.append(
            "\t\t\t<ExtendedAttribute>\n"
            + el(4, "FieldID", fid)
            + el(4, "Value", value)
            + "\t\t\t</ExtendedAttribute>\n"
        )
    for number, start, finish, minutes, cost, work in t.baselines:
        out.append(
            "\t\t\t<Baseline>\n"
            + el(4, "Number", number)
            + el(4, "Start", start)
            + el(4, "Finish", finish)
            + el(4, "Duration", hours(minutes))
            + el(4, "DurationFormat", 7)
            + el(4, "EstimatedDuration", 0)
            + el(4, "Work", hours(work * 60))
            + el(4, "Cost", cost * 100)
            + "\t\t\t</Baseline>\n"
        )
    out.append("\t\t</Task>\n")
    return "".join(out)


CALENDAR = (
    """\t<Calendars>
\t\t<Calendar>
\t\t\t<UID>1</UID>
\t\t\t<GUID>16F4FFF7-D8D2-E811-AC3F-4CEDDE6E5B57</GUID>
\t\t\t<Name>Standard</Name>
\t\t\t<IsBaseCalendar>1</IsBaseCalendar>
\t\t\t<IsBaselineCalendar>0</IsBaselineCalendar>
\t\t\t<BaseCalendarUID>0</BaseCalendarUID>
\t\t\t<WeekDays>
"""
    + "".join(
        f"\t\t\t\t<WeekDay>\n\t\t\t\t\t<DayType>{d}</DayType>\n\t\t\t\t\t<DayWorking>0</DayWorking>\n\t\t\t\t</WeekDay>\n"
        if d in (1, 7)
        else f"\t\t\t\t<WeekDay>\n\t\t\t\t\t<DayType>{d}</DayType>\n\t\t\t\t\t<DayWorking>1</DayWorking>\n"
        "\t\t\t\t\t<WorkingTimes>\n"
        "\t\t\t\t\t\t<WorkingTime>\n\t\t\t\t\t\t\t<FromTime>08:00:00</FromTime>\n\t\t\t\t\t\t\t<ToTime>12:00:00</ToTime>\n"
        "\t\t\t\t\t\t</WorkingTime>\n"
        "\t\t\t\t\t\t<WorkingTime>\n\t\t\t\t\t\t\t<FromTime>13:00:00</FromTime>\n\t\t\t\t\t\t\t<ToTime>17:00:00</ToTime>\n"
        "\t\t\t\t\t\t</WorkingTime>\n\t\t\t\t\t</WorkingTimes>\n\t\t\t\t</WeekDay>\n"
        for d in range(1, 8)
    )
    + "\t\t\t</WeekDays>\n\t\t</Calendar>\n\t</Calendars>\n"
)


def project_xml(
    name: str,
    title: str | None,
    start: str,
    finish: str,
    tasks: list[T],
    *,
    status: str | None = None,
    ev_baseline: int = 0,
    fields: list[tuple[int, str, str | None]] = (),
    resources: list[tuple[int, str, float]] = (),
    assignments: list[tuple[int, int, int, float]] = (),
    currency: str = "USD",
    manager: str | None = None,
) -> str:
    head: list[tuple[str, object]] = [
        ("SaveVersion", 14),
        ("BuildNumber", "16.0.14332.20255"),
        ("Name", name),
    ]
    if title:
        head.append(("Title", title))
    if manager:
        head.append(("Manager", manager))
    head += [
        ("GUID", "0B1E2D3C-4A5B-EF11-9C7A-00155D000001"),
        ("CreationDate", "2026-02-20T09:12:00"),
        ("LastSaved", "2026-04-13T16:45:00"),
        ("ScheduleFromStart", 1),
        ("StartDate", start),
        ("FinishDate", finish),
        ("FYStartDate", 1),
        ("CriticalSlackLimit", 0),
        ("CurrencyDigits", 2),
        ("CurrencySymbol", "$" if currency == "USD" else "€"),
        ("CurrencyCode", currency),
        ("CurrencySymbolPosition", 0),
        ("CalendarUID", 1),
        ("DefaultStartTime", "08:00:00"),
        ("DefaultFinishTime", "17:00:00"),
        ("MinutesPerDay", 480),
        ("MinutesPerWeek", 2400),
        ("DaysPerMonth", 20),
        ("DefaultTaskType", 0),
        ("DefaultFixedCostAccrual", 3),
        ("DefaultStandardRate", 0),
        ("DefaultOvertimeRate", 0),
        ("DurationFormat", 7),
        ("WorkFormat", 2),
        ("EditableActualCosts", 0),
        ("HonorConstraints", 0),
        ("InsertedProjectsLikeSummary", 1),
        ("MultipleCriticalPaths", 0),
        ("NewTasksEffortDriven", 0),
        ("NewTasksEstimated", 1),
        ("SplitsInProgressTasks", 1),
        ("SpreadActualCost", 0),
        ("SpreadPercentComplete", 0),
        ("TaskUpdatesResource", 1),
        ("FiscalYearStart", 0),
        ("WeekStartDay", 1),
        ("MoveCompletedEndsBack", 0),
        ("MoveRemainingStartsBack", 0),
        ("MoveRemainingStartsForward", 0),
        ("MoveCompletedEndsForward", 0),
        ("BaselineForEarnedValue", ev_baseline),
        ("AutoAddNewResourcesAndTasks", 1),
    ]
    if status:
        head.append(("StatusDate", status))
    head += [
        ("CurrentDate", "2026-04-13T08:00:00"),
        ("MicrosoftProjectServerURL", 1),
        ("Autolink", 0),
        ("NewTaskStartDate", 0),
        ("NewTasksAreManual", 0),
        ("DefaultTaskEVMethod", 0),
        ("ProjectExternallyEdited", 0),
        ("ExtendedCreationDate", "1984-01-01T00:00:00"),
        ("ActualsInSync", 0),
        ("RemoveFileProperties", 0),
        ("AdminProject", 0),
        ("UpdateManuallyScheduledTasksWhenEditingLinks", 1),
        ("KeepTaskOnNearestWorkingTimeWhenMadeAutoScheduled", 0),
    ]
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        '<Project xmlns="http://schemas.microsoft.com/project">\n',
    ]
    out += [el(1, k, v) for k, v in head]
    out.append(
        "\t<Views>\n\t\t<View>\n\t\t\t<Name>&amp;Gantt Chart</Name>\n"
        "\t\t\t<IsCustomized>true</IsCustomized>\n\t\t</View>\n\t</Views>\n"
        "\t<Filters>\n\t\t<Filter>\n\t\t\t<Name>&amp;All Tasks</Name>\n\t\t</Filter>\n"
        "\t</Filters>\n\t<Groups>\n\t\t<Group>\n\t\t\t<Name>&amp;No Group</Name>\n\t\t</Group>\n\t</Groups>\n"
        "\t<Tables>\n\t\t<Table>\n\t\t\t<Name>&amp;Entry</Name>\n\t\t\t<IsCustomized>true</IsCustomized>\n"
        "\t\t</Table>\n\t</Tables>\n\t<Maps/>\n\t<Reports/>\n\t<Drawings/>\n\t<DataLinks/>\n"
        "\t<VBAProjects>\n\t\t<VBAProject>\n\t\t\t<Name>ThisProject</Name>\n"
        "\t\t\t<IsCustomized>true</IsCustomized>\n\t\t</VBAProject>\n\t</VBAProjects>\n"
        "\t<OutlineCodes/>\n\t<WBSMasks/>\n"
    )
    if fields:
        out.append("\t<ExtendedAttributes>\n")
        for fid, fname, alias in fields:
            out.append(
                "\t\t<ExtendedAttribute>\n"
                + el(3, "FieldID", fid)
                + el(3, "FieldName", fname)
                + (el(3, "Alias", alias) if alias else "")
                + el(3, "Guid", f"000039B7-8BBE-4CEB-82C4-FA8C0B{fid % 0x1000000:06X}")
                + "\t\t</ExtendedAttribute>\n"
            )
        out.append("\t</ExtendedAttributes>\n")
    else:
        out.append("\t<ExtendedAttributes/>\n")
    out.append(CALENDAR)
    out.append("\t<Tasks>\n")
    counters: list[int] = []
    for t in tasks:
        if t.null:
            out.append(task_xml(t, ""))
            continue
        if t.level == 0:
            wbs = "0"
        else:
            counters = counters[: t.level]
            while len(counters) < t.level:
                counters.append(0)
            counters[t.level - 1] += 1
            wbs = ".".join(map(str, counters))
        out.append(task_xml(t, t.outline or wbs))
    out.append(
        "\t</Tasks>\n\t<Resources>\n\t\t<Resource>\n\t\t\t<UID>0</UID>\n\t\t\t<ID>0</ID>\n\t\t\t<Type>1</Type>\n"
        "\t\t\t<IsNull>0</IsNull>\n\t\t\t<MaxUnits>1.00</MaxUnits>\n\t\t</Resource>\n"
    )
    for uid, rname, rate in resources:
        out.append(
            "\t\t<Resource>\n"
            + el(3, "UID", uid)
            + el(3, "ID", uid)
            + el(3, "Name", rname)
            + el(3, "Type", 1)
            + el(3, "IsNull", 0)
            + el(3, "Initials", rname[0])
            + el(3, "MaxUnits", "1.00")
            + el(3, "StandardRate", f"{rate:g}")
            + el(3, "StandardRateFormat", 2)
            + el(3, "CalendarUID", 1)
            + "\t\t</Resource>\n"
        )
    out.append("\t</Resources>\n")
    if assignments:
        out.append("\t<Assignments>\n")
        for uid, task_uid, res_uid, work in assignments:
            out.append(
                "\t\t<Assignment>\n"
                + el(3, "UID", uid)
                + el(3, "TaskUID", task_uid)
                + el(3, "ResourceUID", res_uid)
                + el(3, "Units", 1)
                + el(3, "Work", hours(work * 60))
                + "\t\t</Assignment>\n"
            )
        out.append("\t</Assignments>\n")
    else:
        out.append("\t<Assignments/>\n")
    out.append("</Project>\n")
    return "".join(out)


def erp_upgrade() -> str:
    s = "T08:00:00"
    e = "T17:00:00"
    tasks = [
        T(
            0,
            "Case Management Replacement",
            0,
            "2026-03-02" + s,
            "2026-05-29" + e,
            64 * DAY,
            summary=True,
            percent=38,
            cost=68000,
            actual_cost=21400,
            work_h=680,
            actual_work_h=214,
            baselines=[
                (0, "2026-03-02" + s, "2026-05-22" + e, 60 * DAY, 64000, 640),
                (1, "2026-03-02" + s, "2026-05-15" + e, 55 * DAY, 60000, 600),
            ],
        ),
        T(
            1,
            "Initiation",
            1,
            "2026-03-02" + s,
            "2026-03-13" + e,
            10 * DAY,
            summary=True,
            percent=100,
            cost=8000,
            actual_cost=8000,
            work_h=80,
            actual_work_h=80,
            actual_start="2026-03-02" + s,
            actual_finish="2026-03-13" + e,
            ext=[(TEXT2, "P-2041.01")],
            baselines=[(0, "2026-03-02" + s, "2026-03-13" + e, 10 * DAY, 8000, 80)],
        ),
        T(
            2,
            "Develop business case",
            2,
            "2026-03-02" + s,
            "2026-03-06" + e,
            5 * DAY,
            percent=100,
            physical=100,
            cost=4000,
            actual_cost=4000,
            work_h=40,
            actual_work_h=40,
            actual_start="2026-03-02" + s,
            actual_finish="2026-03-06" + e,
            critical=True,
            bcws=4000,
            bcwp=4000,
            ext=[(TEXT1, "CMR-1"), (TEXT2, "P-2041.01"), (NUMBER1, "5")],
            baselines=[
                (0, "2026-03-02" + s, "2026-03-06" + e, 5 * DAY, 4000, 40),
                (1, "2026-03-02" + s, "2026-03-06" + e, 5 * DAY, 3800, 38),
            ],
        ),
        T(
            3,
            "Stakeholder workshops",
            2,
            "2026-03-09" + s,
            "2026-03-13" + e,
            5 * DAY,
            percent=100,
            physical=100,
            cost=4000,
            actual_cost=4000,
            work_h=40,
            actual_work_h=40,
            actual_start="2026-03-09" + s,
            actual_finish="2026-03-13" + e,
            critical=True,
            links=[(2, 1, 0, 7)],
            bcws=4000,
            bcwp=4000,
            ext=[(TEXT1, "CMR-2"), (FLAG1, "1")],
            baselines=[(0, "2026-03-09" + s, "2026-03-13" + e, 5 * DAY, 4000, 40)],
        ),
        T(
            4,
            "Charter approved",
            2,
            "2026-03-13" + e,
            "2026-03-13" + e,
            0,
            milestone=True,
            percent=100,
            actual_start="2026-03-13" + e,
            actual_finish="2026-03-13" + e,
            critical=True,
            links=[(3, 1, 0, 7)],
            deadline="2026-03-16" + e,
            ext=[(TEXT1, "CMR-3")],
            baselines=[(0, "2026-03-13" + e, "2026-03-13" + e, 0, 0, 0)],
        ),
        T(
            5,
            "Build",
            1,
            "2026-03-16" + s,
            "2026-05-18" + e,
            45 * DAY,
            summary=True,
            percent=35,
            cost=52000,
            actual_cost=13400,
            work_h=520,
            actual_work_h=134,
            actual_start="2026-03-16" + s,
            ext=[(TEXT2, "P-2041.02")],
            baselines=[(0, "2026-03-16" + s, "2026-05-13" + e, 43 * DAY, 48000, 480)],
        ),
        T(
            6,
            "Configure case module",
            2,
            "2026-03-16" + s,
            "2026-04-24" + e,
            30 * DAY,
            percent=60,
            physical=55,
            cost=24000,
            actual_cost=9000,
            work_h=240,
            actual_work_h=90,
            actual_start="2026-03-16" + s,
            constraint=(4, "2026-03-16" + s),
            critical=True,
            links=[(4, 1, 0, 7)],
            bcws=16000,
            bcwp=14400,
            ext=[
                (TEXT1, "CMR-10"),
                (TEXT2, "P-2041.02"),
                (COST1, "150000"),
                (DATE1, "2026-04-01T08:00:00"),
                (TEXT3, "Vendor: Acme"),
            ],
            baselines=[(0, "2026-03-16" + s, "2026-04-24" + e, 30 * DAY, 24000, 240)],
        ),
        T(
            7,
            "Data migration",
            2,
            "2026-03-23" + s,
            "2026-05-01" + e,
            30 * DAY,
            percent=40,
            physical=40,
            cost=18000,
            actual_cost=4400,
            work_h=180,
            actual_work_h=44,
            actual_start="2026-03-23" + s,
            links=[(6, 3, 5 * DAY * 10, 7)],
            slack_days=0,
            critical=True,
            bcws=6000,
            bcwp=7200,
            ext=[(TEXT1, "CMR-11"), (NUMBER1, "13")],
            baselines=[(0, "2026-03-23" + s, "2026-04-24" + e, 25 * DAY, 15000, 150)],
        ),
        T(
            8,
            "Interface to payments",
            2,
            "2026-04-02" + s,
            "2026-04-29" + e,
            20 * DAY,
            percent=10,
            cost=10000,
            actual_cost=0,
            work_h=100,
            actual_work_h=0,
            actual_start="2026-04-02" + s,
            constraint=(2, "2026-04-02" + s),
            links=[(7, 0, -2 * DAY * 10, 7)],
            slack_days=2,
            ext=[(TEXT1, "CMR-12")],
            baselines=[(0, "2026-04-01" + s, "2026-04-28" + e, 20 * DAY, 9000, 90)],
        ),
        T(
            9,
            "Security accreditation",
            2,
            "2026-05-04" + s,
            "2026-05-18" + s,
            14 * 1440,
            duration_format=8,
            links=[(7, 1, 2 * 1440 * 10, 8)],
            slack_days=0,
            critical=True,
            ext=[(TEXT1, "CMR-13")],
            baselines=[(0, "2026-04-27" + s, "2026-05-11" + s, 14 * 1440, 0, 0)],
        ),
        T(
            10,
            "Go live",
            2,
            "2026-05-18" + e,
            "2026-05-18" + e,
            0,
            milestone=True,
            critical=True,
            links=[(9, 1, 0, 7), (8, 1, 0, 7)],
            deadline="2026-05-15" + e,
            constraint=(7, "2026-05-20" + e),
            ext=[(TEXT1, "CMR-14")],
            baselines=[
                (0, "2026-05-13" + e, "2026-05-13" + e, 0, 0, 0),
                (1, "2026-05-08" + e, "2026-05-08" + e, 0, 0, 0),
            ],
        ),
        T(
            11,
            "Closeout",
            1,
            "2026-05-19" + s,
            "2026-05-29" + e,
            9 * DAY,
            summary=True,
            cost=8000,
            work_h=80,
            baselines=[(0, "2026-05-14" + s, "2026-05-22" + e, 7 * DAY, 8000, 80)],
        ),
        T(
            12,
            "Lessons learned",
            2,
            "2026-05-19" + s,
            "2026-05-29" + e,
            9 * DAY,
            cost=8000,
            work_h=80,
            links=[(10, 1, 0, 7), (8, 1, 50, 19)],
            ext=[(TEXT1, "CMR-20")],
            baselines=[(0, "2026-05-14" + s, "2026-05-22" + e, 7 * DAY, 8000, 80)],
        ),
    ]
    return project_xml(
        "case-management.xml",
        "Case Management Replacement",
        "2026-03-02" + s,
        "2026-05-29" + e,
        tasks,
        status="2026-04-10" + e,
        ev_baseline=0,
        manager="Dana Whitfield",
        fields=[
            (TEXT1, "Text1", "Jira Key"),
            (TEXT2, "Text2", "Finance Code"),
            (TEXT3, "Text3", None),
            (NUMBER1, "Number1", "Story Points"),
            (FLAG1, "Flag1", "Reportable"),
            (COST1, "Cost1", "Contract Value"),
            (DATE1, "Date1", "Gate Review"),
        ],
        resources=[(1, "Ana Souza", 100), (2, "Ben Okafor", 100), (3, "Chloé Martin", 100)],
        assignments=[
            (1, 2, 1, 40),
            (2, 3, 1, 24),
            (3, 3, 3, 16),
            (4, 6, 2, 240),
            (5, 7, 3, 180),
            (6, 8, 2, 100),
            (7, 12, 1, 80),
        ],
    )


def no_baselines() -> str:
    s, e = "T08:00:00", "T17:00:00"
    tasks = [
        T(0, "Printer fleet refresh", 0, "2026-06-01" + s, "2026-06-12" + e, 10 * DAY, summary=True),
        T(1, "Survey sites", 1, "2026-06-01" + s, "2026-06-03" + e, 3 * DAY),
        T(2, "Order printers", 1, "2026-06-04" + s, "2026-06-05" + e, 2 * DAY, links=[(1, 1, 0, 7)]),
        T(3, "Install printers", 1, "2026-06-08" + s, "2026-06-12" + e, 5 * DAY, links=[(2, 1, 0, 7)]),
        T(4, "Fleet live", 1, "2026-06-12" + e, "2026-06-12" + e, 0, milestone=True, links=[(3, 1, 0, 7)]),
    ]
    return project_xml("printer-refresh.xml", None, "2026-06-01" + s, "2026-06-12" + e, tasks, currency="EUR")


def eleven_baselines() -> str:
    s, e = "T08:00:00", "T17:00:00"

    def bl(days_late: int, cost: int) -> list[tuple[int, str, str, int, int, float]]:
        out = []
        for n in range(11):
            finish_day = 6 + (days_late - n if days_late - n > 0 else 0)
            out.append(
                (
                    n,
                    "2026-07-06" + s,
                    f"2026-07-{finish_day + 4:02d}" + e,
                    (finish_day - 1) * DAY,
                    cost - 100 * n,
                    8.0 * n,
                )
            )
        return out

    tasks = [
        T(
            0,
            "Network core upgrade",
            0,
            "2026-07-06" + s,
            "2026-07-17" + e,
            10 * DAY,
            summary=True,
            cost=9000,
            baselines=bl(3, 9000),
        ),
        T(
            1,
            "Replace core switches",
            1,
            "2026-07-06" + s,
            "2026-07-17" + e,
            10 * DAY,
            cost=9000,
            baselines=bl(3, 9000),
        ),
    ]
    return project_xml(
        "network-core.xml", "Network core upgrade", "2026-07-06" + s, "2026-07-17" + e, tasks, ev_baseline=2
    )


def edge_cases() -> str:
    s, e = "T08:00:00", "T17:00:00"
    tasks = [
        T(0, "多言語 rollout — ünïcödé ✓", 0, "2026-09-07" + s, "2026-09-25" + e, 15 * DAY, summary=True),
        T(1, "Préparation & « cadrage »", 1, "2026-09-07" + s, "2026-09-11" + e, 5 * DAY, summary=True),
        T(2, "Übersetzung der Oberfläche 🌍", 2, "2026-09-07" + s, "2026-09-09" + e, 3 * DAY),
        T(3, None, 0, null=True),
        T(
            4,
            "مراجعة المحتوى",
            2,
            "2026-09-10" + s,
            "2026-09-11" + e,
            2 * DAY,
            manual=True,
            links=[(2, 1, 0, 7)],
        ),
        T(
            5,
            "Vendor lead time (elapsed)",
            1,
            "2026-09-14" + s,
            "2026-09-24" + s,
            10 * 1440,
            duration_format=8,
            links=[(4, 1, 0, 7)],
            baselines=[(0, "2026-09-14" + s, "2026-09-24" + s, 10 * 1440, 0, 0)],
        ),
        T(6, None, 0, null=True),
        T(7, "Manually scheduled placeholder", 1, "2026-09-21" + s, "2026-09-25" + e, 5 * DAY, manual=True),
        T(
            8,
            '<Sign-off> "final"',
            1,
            "2026-09-25" + e,
            "2026-09-25" + e,
            0,
            milestone=True,
            links=[(5, 1, 0, 7), (7, 1, 0, 7)],
        ),
    ]
    return project_xml("edge-cases.xml", None, "2026-09-07" + s, "2026-09-25" + e, tasks)


if __name__ == "__main__":
    for name, text in (
        ("case-management.xml", erp_upgrade()),
        ("printer-refresh.xml", no_baselines()),
        ("network-core.xml", eleven_baselines()),
        ("edge-cases.xml", edge_cases()),
    ):
        (HERE / name).write_text(text, encoding="utf-8", newline="\n")
        print(HERE / name)
