"""Small MSPDI files with the structure MS Project writes (element names, order, units), for tests
that need one feature at a time: baselines saved and unsaved, enterprise fields, calendars with
holidays, elapsed and percentage lags, files without slack."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

_WORKING_TIMES = (
    "<WorkingTimes><WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
    "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes>"
)


@dataclass
class T:
    """One task; ``extra`` is raw MSPDI children (Baseline, ExtendedAttribute, PredecessorLink, ...)."""

    uid: int
    name: str
    start: str
    finish: str
    duration: str = "PT8H0M0S"
    level: int = 1
    summary: bool = False
    milestone: bool = False
    extra: str = ""
    slack: int | None = None  # TotalSlack in tenths of minutes, None: not written
    critical: bool | None = None
    calendar_uid: int | None = None

    def xml(self) -> str:
        parts = [
            f"<UID>{self.uid}</UID><ID>{self.uid}</ID><Name>{escape(self.name)}</Name><Active>1</Active>",
            "<Manual>0</Manual><Type>0</Type><IsNull>0</IsNull>",
            f"<OutlineNumber>{self.uid}</OutlineNumber><OutlineLevel>{self.level}</OutlineLevel>",
            f"<Start>{self.start}</Start><Finish>{self.finish}</Finish>",
            f"<Duration>{self.duration}</Duration><DurationFormat>7</DurationFormat>",
            f"<ActualDuration>PT0H0M0S</ActualDuration><RemainingDuration>{self.duration}</RemainingDuration>",
            f"<Milestone>{int(self.milestone)}</Milestone><Summary>{int(self.summary)}</Summary>",
        ]
        if self.critical is not None:
            parts.append(f"<Critical>{int(self.critical)}</Critical>")
        if self.slack is not None:
            parts.append(f"<TotalSlack>{self.slack}</TotalSlack>")
        parts.append("<ConstraintType>0</ConstraintType>")
        if self.calendar_uid is not None:
            parts.append(f"<CalendarUID>{self.calendar_uid}</CalendarUID>")
        parts.append(self.extra)
        return "<Task>" + "".join(parts) + "</Task>"


@dataclass
class Cal:
    """A calendar: working weekdays (MSPDI DayType, 1 = Sunday) and exceptions (from, to, working)."""

    uid: int
    name: str = "Standard"
    working_days: Sequence[int] = (2, 3, 4, 5, 6)
    exceptions: Iterable[tuple[str, str, bool]] = ()
    base_uid: int | None = None
    weekdays: bool = True
    #: also write each exception day as a WeekDay of DayType 0, as Project 2007+ does (the
    #: <Exceptions> block then holds the rule, e.g. a yearly recurrence, and these its occurrences)
    expanded: Iterable[tuple[str, str, bool]] = ()
    #: the WorkingTimes of each working weekday (08:00-12:00 and 13:00-17:00 unless given)
    times: str = _WORKING_TIMES

    def xml(self) -> str:
        days = ""
        if self.weekdays:
            week = "".join(
                f"<WeekDay><DayType>{d}</DayType><DayWorking>{int(d in self.working_days)}</DayWorking>"
                + (self.times if d in self.working_days else "")
                + "</WeekDay>"
                for d in range(1, 8)
            )
            occurrences = "".join(
                f"<WeekDay><DayType>0</DayType><DayWorking>{int(working)}</DayWorking><TimePeriod>"
                f"<FromDate>{start}</FromDate><ToDate>{end}</ToDate></TimePeriod>"
                + (_WORKING_TIMES if working else "")
                + "</WeekDay>"
                for start, end, working in self.expanded
            )
            days = f"<WeekDays>{week}{occurrences}</WeekDays>"
        exceptions = "".join(
            f"<Exception><EnteredByOccurrences>0</EnteredByOccurrences><TimePeriod><FromDate>{start}</FromDate>"
            f"<ToDate>{end}</ToDate></TimePeriod><Occurrences>1</Occurrences><Name>Holiday</Name>"
            f"<Type>1</Type><DayWorking>{int(working)}</DayWorking>"
            + (_WORKING_TIMES if working else "")
            + "</Exception>"
            for start, end, working in self.exceptions
        )
        base = f"<BaseCalendarUID>{self.base_uid}</BaseCalendarUID>" if self.base_uid is not None else ""
        is_base = int(self.base_uid is None)
        return (
            f"<Calendar><UID>{self.uid}</UID><Name>{self.name}</Name><IsBaseCalendar>{is_base}</IsBaseCalendar>"
            f"{base}{days}" + (f"<Exceptions>{exceptions}</Exceptions>" if exceptions else "") + "</Calendar>"
        )


@dataclass
class Plan:
    tasks: list[T]
    calendars: list[Cal] = field(default_factory=lambda: [Cal(1)])
    fields: list[tuple[int, str, str | None]] = field(default_factory=list)  # (FieldID, FieldName, Alias)
    minutes_per_day: int = 480
    minutes_per_week: int = 2400
    status_date: str | None = None
    title: str = "Test plan"

    def xml(self) -> bytes:
        defs = "".join(
            f"<ExtendedAttribute><FieldID>{fid}</FieldID><FieldName>{name}</FieldName>"
            + (f"<Alias>{alias}</Alias>" if alias else "")
            + "</ExtendedAttribute>"
            for fid, name, alias in self.fields
        )
        status = f"<StatusDate>{self.status_date}</StatusDate>" if self.status_date else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Project xmlns="http://schemas.microsoft.com/project">'
            f"<SaveVersion>14</SaveVersion><Name>plan.xml</Name><Title>{self.title}</Title>"
            f"<StartDate>{self.tasks[0].start}</StartDate><FinishDate>{self.tasks[0].finish}</FinishDate>"
            f"{status}<CalendarUID>1</CalendarUID><MinutesPerDay>{self.minutes_per_day}</MinutesPerDay>"
            f"<MinutesPerWeek>{self.minutes_per_week}</MinutesPerWeek><DaysPerMonth>20</DaysPerMonth>"
            f"<CurrencyCode>USD</CurrencyCode><BaselineForEarnedValue>0</BaselineForEarnedValue>"
            f"<ExtendedAttributes>{defs}</ExtendedAttributes>"
            "<Calendars>" + "".join(c.xml() for c in self.calendars) + "</Calendars>"
            "<Tasks>" + "".join(t.xml() for t in self.tasks) + "</Tasks>"
            "<Resources/><Assignments/></Project>"
        )
        return body.encode()


def link(predecessor: int, kind: int = 1, lag: float = 0, lag_format: int = 7) -> str:
    """A PredecessorLink: Type 0 FF, 1 FS, 2 SF, 3 SS; lag in tenths of minutes (percent for 19/20)."""
    return (
        f"<PredecessorLink><PredecessorUID>{predecessor}</PredecessorUID><Type>{kind}</Type>"
        f"<CrossProject>0</CrossProject><LinkLag>{lag}</LinkLag><LagFormat>{lag_format}</LagFormat>"
        "</PredecessorLink>"
    )


def baseline(number: int, start: str | None, finish: str | None, cost: str = "0", work: str = "PT0H0M0S",
             duration: str = "PT0H0M0S") -> str:  # fmt: skip
    dates = (f"<Start>{start}</Start>" if start else "") + (f"<Finish>{finish}</Finish>" if finish else "")
    return (
        f"<Baseline><Number>{number}</Number><Interim>0</Interim>{dates}<Duration>{duration}</Duration>"
        f"<DurationFormat>7</DurationFormat><EstimatedDuration>0</EstimatedDuration><Work>{work}</Work>"
        f"<Cost>{cost}</Cost><BCWS>0</BCWS><BCWP>0</BCWP></Baseline>"
    )


def custom(field_id: int, value: str, duration_format: int | None = None) -> str:
    fmt = f"<DurationFormat>{duration_format}</DurationFormat>" if duration_format is not None else ""
    return f"<ExtendedAttribute><FieldID>{field_id}</FieldID><Value>{value}</Value>{fmt}</ExtendedAttribute>"
