"""A compact, parsed form of one schedule file: what the readers produce and the records are built from.

Both readers (the native MSPDI reader and the MPXJ bridge) fill these classes; nothing here knows
about XML or Java. Values are already typed and in the units pmsync uses:

- dates and times are naive ``datetime`` as the file states them (MS Project has no time zone);
- money is ``Decimal`` in currency units (MSPDI stores cents; the reader converts);
- durations and work are minutes (``float``), with ``elapsed`` saying whether they are calendar
  minutes (24 h days) rather than working minutes;
- slack and lag are minutes too (MSPDI stores tenths of minutes).

A file is read completely into a :class:`Schedule` before any record is built, so a file that turns
out to be broken yields nothing at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pmsync.model import DependencyType

#: the kinds of custom field values (parsed in :mod:`.custom_fields`, kept here with the schedule
#: types that carry them, so that the two modules import one way)
CustomKind = Literal["text", "number", "cost", "flag", "date", "duration", "outline_code"]


@dataclass(frozen=True, slots=True)
class CustomDuration:
    """A duration custom value: minutes, and whether they are elapsed (calendar) minutes."""

    minutes: float
    elapsed: bool = False


CustomFieldValue = str | float | Decimal | bool | datetime | CustomDuration

#: MSPDI DurationFormat / LagFormat codes that are elapsed (calendar) time, not working time;
#: 35-52 are the "estimated" (``?``) variants of 3-20
ELAPSED_FORMATS = frozenset({4, 6, 8, 10, 12, 20, 36, 38, 40, 42, 44, 52})
#: lag formats that are a percentage of the predecessor's duration
PERCENT_FORMATS = frozenset({19, 20, 51, 52})

#: MSPDI PredecessorLink/Type → pmsync dependency type
LINK_TYPES: dict[int, DependencyType] = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
#: MSPDI ConstraintType → the short codes schedulers (and the DCMA checks) use
CONSTRAINT_TYPES = {
    0: "ASAP",  # As Soon As Possible
    1: "ALAP",  # As Late As Possible
    2: "MSO",  # Must Start On
    3: "MFO",  # Must Finish On
    4: "SNET",  # Start No Earlier Than
    5: "SNLT",  # Start No Later Than
    6: "FNET",  # Finish No Earlier Than
    7: "FNLT",  # Finish No Later Than
}

_ISO_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def iso_duration_minutes(
    text: str, minutes_per_day: float = 480, minutes_per_week: float = 2400, days_per_month: float = 20
) -> float:
    """Minutes in an xsd:duration as MS Project writes it (``PT40H0M0S``, ``P2DT4H``, ``-PT8H``).

    Days, weeks, months and years count in the project's calendar settings, as Project and MPXJ
    read them: a day is ``MinutesPerDay`` (480 by default, not 24 hours), a week ``MinutesPerWeek``,
    a month ``DaysPerMonth`` days, a year 12 months. MS Project itself writes hours, minutes and
    seconds; other tools write days. Raises ``ValueError`` on anything else.
    """
    if text.startswith("PT") and text.endswith("S") and "H" in text and "M" in text:
        # the form MS Project always writes, PT8H0M0S: split it without the regex (10x faster)
        hours, _, rest = text[2:-1].partition("H")
        mins, _, secs = rest.partition("M")
        try:
            return float(hours) * 60 + float(mins) + float(secs) / 60
        except ValueError:
            pass  # let the full parser explain what is wrong
    match = _ISO_DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT", "-P"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    part = {k: float(v) for k, v in match.groupdict().items() if k != "sign" and v is not None}
    month = days_per_month * minutes_per_day
    minutes = (
        part.get("y", 0.0) * 12 * month
        + part.get("mo", 0.0) * month
        + part.get("w", 0.0) * minutes_per_week
        + part.get("d", 0.0) * minutes_per_day
        + part.get("h", 0.0) * 60
        + part.get("mi", 0.0)
        + part.get("s", 0.0) / 60
    )
    return -minutes if match.group("sign") else minutes


@dataclass(slots=True)
class ProjectProperties:
    """The file's project-level properties (MSPDI ``Project`` children)."""

    name: str | None = None
    title: str | None = None
    manager: str | None = None
    company: str | None = None
    author: str | None = None
    start: datetime | None = None
    finish: datetime | None = None
    status_date: datetime | None = None
    last_saved: datetime | None = None
    currency_code: str | None = None
    currency_symbol: str | None = None
    calendar_uid: int | None = None
    minutes_per_day: int = 480
    minutes_per_week: int = 2400
    days_per_month: int = 20
    #: which baseline (0-10) Project uses for earned value
    baseline_for_earned_value: int | None = None
    #: when each baseline was saved, where the file records it (MPP does; MSPDI does not)
    baseline_dates: dict[int, datetime] = field(default_factory=dict)
    save_version: str | None = None


@dataclass(slots=True)
class Calendar:
    uid: int
    name: str | None = None
    base_uid: int | None = None
    is_base: bool = False
    #: working minutes per weekday, 1 = Sunday … 7 = Saturday (MSPDI DayType); absent days inherit
    minutes_by_day: dict[int, int] = field(default_factory=dict)
    #: exceptions (holidays, shortened or extra working days): first day, last day (inclusive),
    #: working minutes on each of those days (0 = not a working day)
    exceptions: list[tuple[date, date, int]] = field(default_factory=list)

    @property
    def minutes_per_week(self) -> int:
        return sum(self.minutes_by_day.values())


@dataclass(slots=True)
class Link:
    predecessor_uid: int
    type: DependencyType = "FS"
    #: lag in minutes (working or elapsed, see ``lag_elapsed``), or percent when ``lag_percent``
    lag: float = 0.0
    lag_elapsed: bool = False
    lag_percent: bool = False


@dataclass(slots=True)
class BaselineValues:
    number: int
    start: datetime | None = None
    finish: datetime | None = None
    duration_minutes: float | None = None
    duration_elapsed: bool = False
    work_minutes: float | None = None
    cost: Decimal | None = None

    @property
    def holds_values(self) -> bool:
        """Whether this is a saved baseline value and not a placeholder: a date, or a non-zero
        duration, work or cost (an unsaved baseline reads as zeros without dates)."""
        return (
            self.start is not None
            or self.finish is not None
            or bool(self.duration_minutes)
            or bool(self.work_minutes)
            or bool(self.cost)
        )


@dataclass(slots=True)
class Task:
    """One task row. ``is_null`` rows (blank lines in Project) are kept out by the readers."""

    uid: int
    id: int | None = None
    name: str | None = None
    wbs: str | None = None
    outline_number: str | None = None
    outline_level: int | None = None
    summary: bool = False
    milestone: bool = False
    manual: bool = False
    active: bool = True
    start: datetime | None = None
    finish: datetime | None = None
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    duration_minutes: float | None = None
    duration_elapsed: bool = False
    percent_complete: float | None = None
    physical_percent_complete: float | None = None
    cost: Decimal | None = None
    actual_cost: Decimal | None = None
    work_minutes: float | None = None
    actual_work_minutes: float | None = None
    remaining_work_minutes: float | None = None
    bcws: Decimal | None = None
    bcwp: Decimal | None = None
    acwp: Decimal | None = None
    constraint_type: int | None = None
    constraint_date: datetime | None = None
    deadline: datetime | None = None
    critical: bool | None = None
    total_slack_minutes: float | None = None
    #: the task's own calendar (Task > Information > Advanced), if it has one
    calendar_uid: int | None = None
    links: list[Link] = field(default_factory=list)
    baselines: list[BaselineValues] = field(default_factory=list)
    #: (field id, typed value) of each custom field (see :mod:`.custom_fields`)
    extended: list[tuple[int, CustomFieldValue]] = field(default_factory=list)


@dataclass(slots=True)
class Resource:
    uid: int
    name: str | None = None
    #: 0 material, 1 work, 2 cost (MSPDI Resource/Type)
    type: int = 1


@dataclass(slots=True)
class Assignment:
    task_uid: int
    resource_uid: int
    work_minutes: float | None = None


@dataclass(slots=True)
class FieldDefinition:
    """An extended attribute definition: ``Text1`` aliased as ``Jira Key``, say."""

    field_id: int
    field_name: str
    alias: str | None = None
    #: what its values are; from the field name (``Enterprise Cost3``) or MPXJ's data type
    kind: CustomKind = "text"

    @property
    def label(self) -> str:
        return self.alias or self.field_name


@dataclass(slots=True)
class Schedule:
    """Everything pmsync needs from one schedule file."""

    properties: ProjectProperties = field(default_factory=ProjectProperties)
    calendars: dict[int, Calendar] = field(default_factory=dict)
    fields: dict[int, FieldDefinition] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    resources: dict[int, Resource] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    #: which reader produced it: "mspdi" or "mpxj"
    reader: str = "mspdi"

    def duplicate_uids(self) -> dict[int, list[int | None]]:
        """Task UIDs held by more than one row, with the row IDs that hold each.

        Project never writes two tasks with one UID; files merged or edited by other tools can.
        Records are keyed by UID, so one of the rows would silently replace the other.
        """
        rows: dict[int, list[int | None]] = {}
        for task in self.tasks:
            rows.setdefault(task.uid, []).append(task.id)
        return {uid: ids for uid, ids in rows.items() if len(ids) > 1}

    def project_calendar_minutes(self) -> tuple[int | None, int | None]:
        """Working minutes per day and week of the project calendar, from its weekdays."""
        uid = self.properties.calendar_uid
        calendar = self.calendars.get(uid) if uid is not None else None
        if calendar is None or not calendar.minutes_by_day:
            return None, None
        working = [m for m in calendar.minutes_by_day.values() if m > 0]
        per_day = max(set(working), key=working.count) if working else None
        return per_day, calendar.minutes_per_week
