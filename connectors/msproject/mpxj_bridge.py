"""Reading .mpp, .mpx, Primavera .xer (and anything else MPXJ reads) through the ``mpxj`` package.

MPXJ is a Java library; the ``mpxj`` Python package bundles its jars and drives them through JPype.
It is an optional extra (``pip install 'pmsync[mpp]'``) and needs a Java 11+ runtime. When either is
missing, :func:`ensure_jvm` raises a :class:`~pmsync.errors.ConfigError` that says which and how to
fix it. The JVM is started once per process (JPype cannot restart it).

The result is the same :class:`~.schedule.Schedule` the native MSPDI reader produces, so records are
built the same way whatever the file format.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pmsync.connector_kit import file_sha256
from pmsync.errors import ConfigError, SourceDataError
from pmsync.model import DependencyType

from .custom_fields import KIND_BY_MPXJ_TYPE, CustomDuration, CustomFieldValue
from .schedule import Assignment as AssignmentValues
from .schedule import (
    BaselineValues,
    Calendar,
    FieldDefinition,
    Link,
    ProjectProperties,
    Resource,
    Schedule,
    Task,
)

_LOCK = threading.Lock()
_LINK_TYPES: dict[str, DependencyType] = {
    "FINISH_START": "FS",
    "START_START": "SS",
    "FINISH_FINISH": "FF",
    "START_FINISH": "SF",
}
_CONSTRAINTS = {
    "AS_SOON_AS_POSSIBLE": 0,
    "AS_LATE_AS_POSSIBLE": 1,
    "MUST_START_ON": 2,
    "MUST_FINISH_ON": 3,
    "START_NO_EARLIER_THAN": 4,
    "START_NO_LATER_THAN": 5,
    "FINISH_NO_EARLIER_THAN": 6,
    "FINISH_NO_LATER_THAN": 7,
}
_CUSTOM_FIELD = re.compile(
    r"^(ENTERPRISE_)?(TEXT|NUMBER|FLAG|COST|DATE|START|FINISH|DURATION|OUTLINE_CODE)\d+$"
)
_WEEKDAYS = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")


def mpxj_problem() -> str | None:
    """Why MPXJ cannot be used here, or ``None`` when it can."""
    if importlib.util.find_spec("mpxj") is None or importlib.util.find_spec("jpype") is None:
        return "the mpxj extra is not installed: pip install 'pmsync[mpp]'"
    import jpype

    if jpype.isJVMStarted():
        return None
    try:
        jpype.getDefaultJVMPath()
    except jpype.JVMNotFoundException:
        if shutil.which("java") is None:
            return (
                "no Java runtime found: install Java 11 or later (e.g. apt install openjdk-17-jre-headless)"
            )
        return "Java was found on PATH but JPype cannot locate libjvm: set JAVA_HOME to the JDK/JRE folder"
    return None


def ensure_jvm() -> None:
    """Start the JVM with MPXJ's jars on the class path (once per process)."""
    problem = mpxj_problem()
    if problem is not None:
        raise ConfigError(f"reading .mpp/.mpx/.xer files needs MPXJ: {problem}")
    import jpype

    with _LOCK:
        if not jpype.isJVMStarted():
            import mpxj  # noqa: F401 - adds MPXJ's jars to the class path

            # convertStrings=False keeps Java strings as Java objects until we ask; str() converts.
            jpype.startJVM(convertStrings=False)


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value.toString())) if value is not None else None


def _num(value: Any) -> float | None:
    return float(value.doubleValue()) if value is not None else None


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value.doubleValue())) if value is not None else None


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


class _Durations:
    def __init__(self, properties: Any) -> None:
        import jpype

        TimeUnit = jpype.JClass("org.mpxj.TimeUnit")
        self._props = properties
        self._minutes = TimeUnit.MINUTES
        self._elapsed_minutes = TimeUnit.ELAPSED_MINUTES
        self._percent = (TimeUnit.PERCENT, TimeUnit.ELAPSED_PERCENT)

    def minutes(self, duration: Any) -> tuple[float | None, bool]:
        """Minutes in a Duration, and whether they are elapsed minutes."""
        if duration is None:
            return None, False
        units = duration.getUnits()
        elapsed = bool(str(units.toString()).startswith("e"))
        target = self._elapsed_minutes if elapsed else self._minutes
        return float(duration.convertUnits(target, self._props).getDuration()), elapsed


def read_with_mpxj(path: Path, name: str | None = None) -> tuple[Schedule, str]:
    """Read any file MPXJ understands; return the schedule and the SHA-256 of the file."""
    name = name or path.name
    ensure_jvm()
    import jpype

    UniversalProjectReader = jpype.JClass("org.mpxj.reader.UniversalProjectReader")

    try:
        digest = file_sha256(path)
    except OSError as exc:
        raise SourceDataError(f"cannot read the file: {exc.strerror}", record=name) from None
    try:
        project = UniversalProjectReader().read(str(path))
    except jpype.JException as exc:
        raise SourceDataError(f"MPXJ cannot read it: {exc.getMessage()}", record=name) from None
    if project is None:
        raise SourceDataError(
            "MPXJ does not recognise this file format", record=name, hint="is it really a schedule file?"
        )
    return convert_project(project), digest


def convert_project(project: Any) -> Schedule:
    """An MPXJ ``ProjectFile`` as a :class:`Schedule`."""
    props = project.getProjectProperties()
    durations = _Durations(props)
    schedule = Schedule(reader="mpxj")
    schedule.properties = _properties(props)
    for calendar in project.getCalendars():
        converted = _calendar(calendar)
        schedule.calendars[converted.uid] = converted
    aliases = _custom_fields(project)
    for task in project.getTasks():
        if task.getNull() or task.getUniqueID() is None:
            continue
        schedule.tasks.append(_task(task, durations, aliases))
    for resource in project.getResources():
        if resource.getUniqueID() is None or resource.getNull():
            continue
        rtype = str(resource.getType().toString()) if resource.getType() is not None else "WORK"
        schedule.resources[int(resource.getUniqueID())] = Resource(
            uid=int(resource.getUniqueID()),
            name=_str(resource.getName()),
            type={"MATERIAL": 0, "WORK": 1, "COST": 2}.get(rtype.upper(), 1),
        )
    for assignment in project.getResourceAssignments():
        task, resource = assignment.getTask(), assignment.getResource()
        if task is None or resource is None:
            continue
        work, _ = durations.minutes(assignment.getWork())
        schedule.assignments.append(
            AssignmentValues(int(task.getUniqueID()), int(resource.getUniqueID()), work)
        )
    for definition in aliases.values():
        schedule.fields[definition.field_id] = definition
    return schedule


def _custom_fields(project: Any) -> dict[Any, FieldDefinition]:
    """Task custom fields in use (Text1, Enterprise Cost3, Outline Code1, named enterprise fields):
    MPXJ field → definition (name as Project shows it, alias, kind from MPXJ's data type)."""
    alias_by_field: dict[str, str | None] = {}
    for custom in project.getCustomFields():
        field_type = custom.getFieldType()
        if field_type is not None and str(field_type.getFieldTypeClass().toString()) == "TASK":
            alias_by_field[str(field_type.name())] = _str(custom.getAlias())
    candidates: dict[str, Any] = {}
    for field in project.getPopulatedFields():
        if str(field.getFieldTypeClass().toString()) != "TASK":
            continue
        key = str(field.name())
        if _CUSTOM_FIELD.match(key) or key in alias_by_field or _is_user_defined(field):
            candidates[key] = field
    fields: dict[Any, FieldDefinition] = {}
    for index, key in enumerate(sorted(candidates)):
        field = candidates[key]
        data_type = field.getDataType()
        kind = KIND_BY_MPXJ_TYPE.get(str(data_type.name()) if data_type is not None else "", "text")
        name = str(field.toString())  # "Enterprise Cost1", "Outline Code1": MSPDI's FieldName
        if key.startswith(("OUTLINE_CODE", "ENTERPRISE_OUTLINE_CODE")):
            kind = "outline_code"
        # ids only need to be unique within the schedule; MPXJ does not expose MSPDI's FieldID
        fields[field] = FieldDefinition(
            field_id=-(index + 1), field_name=name, alias=alias_by_field.get(key), kind=kind
        )
    return fields


def _is_user_defined(field: Any) -> bool:
    # Project Server's named enterprise custom fields come through as MPXJ UserDefinedField
    return "UserDefinedField" in str(field.getClass().getName())


def _custom_value(field: FieldDefinition, value: Any, durations: _Durations) -> CustomFieldValue | None:
    """A typed custom value from MPXJ's Java object, as the MSPDI reader types it."""
    if value is None:
        return None
    kind = field.kind
    if kind == "duration":
        if not hasattr(value, "getUnits"):
            return None
        minutes, elapsed = durations.minutes(value)
        return None if minutes is None else CustomDuration(minutes, elapsed)
    if kind == "cost":
        return Decimal(str(value.doubleValue())) if hasattr(value, "doubleValue") else None
    if kind == "number":
        return float(value.doubleValue()) if hasattr(value, "doubleValue") else None
    if kind == "flag":
        return bool(value)
    if kind == "date":
        return _dt(value) if hasattr(value, "getHour") else None
    text = str(value.toString())
    return text or None


def _properties(props: Any) -> ProjectProperties:
    baseline_dates: dict[int, datetime] = {}
    for number in range(11):
        value = props.getBaselineDate() if number == 0 else props.getBaselineDate(number)
        if value is not None:
            baseline_dates[number] = _dt(value)  # type: ignore[assignment]
    calendar = props.getDefaultCalendar()
    ev_baseline = props.getBaselineForEarnedValue()
    return ProjectProperties(
        name=_str(props.getName()),
        title=_str(props.getProjectTitle()),
        manager=_str(props.getManager()),
        start=_dt(props.getStartDate()),
        finish=_dt(props.getFinishDate()),
        status_date=_dt(props.getStatusDate()),
        currency_code=_str(props.getCurrencyCode()),
        currency_symbol=_str(props.getCurrencySymbol()),
        calendar_uid=int(calendar.getUniqueID()) if calendar is not None else None,
        minutes_per_day=int(props.getMinutesPerDay().intValue()) if props.getMinutesPerDay() else 480,
        minutes_per_week=int(props.getMinutesPerWeek().intValue()) if props.getMinutesPerWeek() else 2400,
        baseline_for_earned_value=int(ev_baseline) if ev_baseline is not None else None,
        baseline_dates=baseline_dates,
    )


def _calendar(calendar: Any) -> Calendar:
    import jpype

    DayOfWeek = jpype.JClass("java.time.DayOfWeek")

    converted = Calendar(
        uid=int(calendar.getUniqueID()),
        name=_str(calendar.getName()),
        base_uid=int(calendar.getParent().getUniqueID()) if calendar.getParent() is not None else None,
        is_base=calendar.getParent() is None,
    )
    for day_type, day_name in enumerate(_WEEKDAYS, start=1):
        hours = calendar.getCalendarHours(DayOfWeek.valueOf(day_name))
        if hours is None:
            continue
        minutes = 0
        for span in hours:
            start, end = span.getStart(), span.getEnd()
            start_min = start.getHour() * 60 + start.getMinute()
            end_min = end.getHour() * 60 + end.getMinute()
            minutes += end_min - start_min if end_min > start_min else end_min - start_min + 1440
        converted.minutes_by_day[day_type] = minutes
    # recurring exceptions expanded by MPXJ into their occurrences, as Project writes them in MSPDI
    for exception in calendar.getExpandedCalendarExceptions():
        first, last = exception.getFromDate(), exception.getToDate()
        if first is None or last is None:
            continue
        minutes = 0
        if exception.getWorking():
            for span in exception:
                start, end = span.getStart(), span.getEnd()
                start_min = start.getHour() * 60 + start.getMinute()
                end_min = end.getHour() * 60 + end.getMinute()
                minutes += end_min - start_min if end_min > start_min else end_min - start_min + 1440
        converted.exceptions.append(
            (date.fromisoformat(str(first.toString())), date.fromisoformat(str(last.toString())), minutes)
        )
    return converted


def _task(task: Any, durations: _Durations, aliases: dict[Any, FieldDefinition]) -> Task:
    duration, elapsed = durations.minutes(task.getDuration())
    work, _ = durations.minutes(task.getWork())
    actual_work, _ = durations.minutes(task.getActualWork())
    remaining_work, _ = durations.minutes(task.getRemainingWork())
    slack, _ = durations.minutes(task.getTotalSlack())
    constraint = task.getConstraintType()
    converted = Task(
        uid=int(task.getUniqueID()),
        id=int(task.getID()) if task.getID() is not None else None,
        name=_str(task.getName()),
        wbs=_str(task.getWBS()),
        outline_number=_str(task.getOutlineNumber()),
        outline_level=int(task.getOutlineLevel()) if task.getOutlineLevel() is not None else None,
        summary=bool(task.getSummary()),
        milestone=bool(task.getMilestone()),
        manual=str(task.getTaskMode().toString()) == "MANUALLY_SCHEDULED" if task.getTaskMode() else False,
        active=bool(task.getActive()),
        start=_dt(task.getStart()),
        finish=_dt(task.getFinish()),
        actual_start=_dt(task.getActualStart()),
        actual_finish=_dt(task.getActualFinish()),
        duration_minutes=duration,
        duration_elapsed=elapsed,
        percent_complete=_num(task.getPercentageComplete()),
        physical_percent_complete=_num(task.getPhysicalPercentComplete()),
        cost=_money(task.getCost()),
        actual_cost=_money(task.getActualCost()),
        work_minutes=work,
        actual_work_minutes=actual_work,
        remaining_work_minutes=remaining_work,
        bcws=_money(task.getBCWS()),
        bcwp=_money(task.getBCWP()),
        acwp=_money(task.getACWP()),
        constraint_type=_CONSTRAINTS.get(str(constraint.name())) if constraint is not None else None,
        constraint_date=_dt(task.getConstraintDate()),
        deadline=_dt(task.getDeadline()),
        critical=bool(task.getCritical()),
        total_slack_minutes=slack,
        calendar_uid=int(task.getCalendar().getUniqueID()) if task.getCalendar() is not None else None,
    )
    for relation in task.getPredecessors():
        lag_minutes, lag_elapsed = durations.minutes(relation.getLag())
        lag = relation.getLag()
        percent = lag is not None and str(lag.getUnits().toString()) in ("%", "e%")
        converted.links.append(
            Link(
                predecessor_uid=int(relation.getPredecessorTask().getUniqueID()),
                type=_LINK_TYPES.get(str(relation.getType().name()), "FS"),
                lag=float(lag.getDuration()) if percent else (lag_minutes or 0.0),
                lag_elapsed=lag_elapsed,
                lag_percent=percent,
            )
        )
    for number in range(11):
        args = () if number == 0 else (number,)
        start, finish = _dt(task.getBaselineStart(*args)), _dt(task.getBaselineFinish(*args))
        cost = _money(task.getBaselineCost(*args))
        base_work, _ = durations.minutes(task.getBaselineWork(*args))
        base_duration, base_elapsed = _baseline_duration(task, durations, args)
        if start is None and finish is None and cost is None and base_work is None and base_duration is None:
            continue
        converted.baselines.append(
            BaselineValues(number, start, finish, base_duration, base_elapsed, base_work, cost)
        )
    for field, definition in aliases.items():
        value = _custom_value(definition, task.get(field), durations)
        if value is not None:
            converted.extended.append((definition.field_id, value))
    return converted


def _baseline_duration(task: Any, durations: _Durations, args: tuple[int, ...]) -> tuple[float | None, bool]:
    value = task.getBaselineDuration(*args)
    # MPXJ returns a Duration, or for some MPP versions a text such as "3d?"
    if value is None or not hasattr(value, "getUnits"):
        return None, False
    return durations.minutes(value)
