"""The native MSPDI reader: the XML Microsoft Project saves (namespace
``http://schemas.microsoft.com/project``), read as a stream.

Why streaming and how: ``defusedxml.ElementTree.iterparse`` builds one ``Task`` (or ``Resource``,
``Assignment``, ``Calendar``) element at a time; when its end tag arrives the element is turned into a
compact :class:`~.schedule.Task` and cleared, so the XML tree never holds more than one row. Project
properties are the small leaf children of the root and are read at the end.

Why it is safe against hostile XML: an MSPDI file never has a DTD, and every XML bomb (billion
laughs, quadratic blow-up) and every external-entity attack needs one, because entities can only be
declared in a DTD. A DTD can only appear in the prolog, before the root element. So the prolog is
first read with defusedxml's parser (``forbid_dtd=True``, ``forbid_entities``, ``forbid_external``),
which refuses any ``<!DOCTYPE`` before a single entity is expanded, and stops at the root element;
only then is the body parsed by the standard library's C ``iterparse``, for which a DOCTYPE after
the root is a syntax error and an undeclared entity reference (``&lol9;``) is an error too. (Running
the whole body through defusedxml's pure-Python parser would double the read time for no added
safety.) A refused file raises a :class:`~pmsync.errors.SourceDataError` that names the file.

The whole file is parsed (and every value converted) before the caller sees anything, so a truncated,
mis-encoded or hostile file yields nothing half-way.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, iterparse

import defusedxml

from pmsync.errors import SourceDataError

from .custom_fields import TASK_FIELD_NAMES, kind_of, parse_mspdi
from .detect import sniff_binary
from .schedule import (
    ELAPSED_FORMATS,
    LINK_TYPES,
    PERCENT_FORMATS,
    Assignment,
    BaselineValues,
    Calendar,
    FieldDefinition,
    Link,
    ProjectProperties,
    Resource,
    Schedule,
    Task,
    iso_duration_minutes,
)
from .xml_guard import HashingReader, root_tag

MSPDI_NAMESPACE = "http://schemas.microsoft.com/project"


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _int(text: str) -> int:
    return int(text.strip())


def _float(text: str) -> float:
    return float(text)


def _datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _money(text: str) -> Decimal:
    """MSPDI stores currency in hundredths (``<Cost>150000</Cost>`` is 1,500.00)."""
    try:
        return Decimal(text.strip()) / 100
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None


def _text(text: str) -> str:
    return text


def _DURATION(text: str) -> float:  # noqa: N802 - a marker: replaced by MspdiReader._duration
    raise AssertionError("bound per reader")


# element name → (Task attribute, converter)
_TASK_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "UID": ("uid", _int),
    "ID": ("id", _int),
    "Name": ("name", _text),
    "WBS": ("wbs", _text),
    "OutlineNumber": ("outline_number", _text),
    "OutlineLevel": ("outline_level", _int),
    "Summary": ("summary", _bool),
    "Milestone": ("milestone", _bool),
    "Manual": ("manual", _bool),
    "Active": ("active", _bool),
    "Start": ("start", _datetime),
    "Finish": ("finish", _datetime),
    "ActualStart": ("actual_start", _datetime),
    "ActualFinish": ("actual_finish", _datetime),
    "Duration": ("duration_minutes", _DURATION),
    "PercentComplete": ("percent_complete", _float),
    "PhysicalPercentComplete": ("physical_percent_complete", _float),
    "Cost": ("cost", _money),
    "ActualCost": ("actual_cost", _money),
    "Work": ("work_minutes", _DURATION),
    "ActualWork": ("actual_work_minutes", _DURATION),
    "RemainingWork": ("remaining_work_minutes", _DURATION),
    "BCWS": ("bcws", _money),
    "BCWP": ("bcwp", _money),
    "ACWP": ("acwp", _money),
    "ConstraintType": ("constraint_type", _int),
    "ConstraintDate": ("constraint_date", _datetime),
    "Deadline": ("deadline", _datetime),
    "Critical": ("critical", _bool),
    # TotalSlack is in tenths of minutes
    "TotalSlack": ("total_slack_minutes", lambda t: float(t) / 10),
    "CalendarUID": ("calendar_uid", _int),
}

_PROJECT_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "SaveVersion": ("save_version", _text),
    "Name": ("name", _text),
    "Title": ("title", _text),
    "Manager": ("manager", _text),
    "Company": ("company", _text),
    "Author": ("author", _text),
    "StartDate": ("start", _datetime),
    "FinishDate": ("finish", _datetime),
    "StatusDate": ("status_date", _datetime),
    "LastSaved": ("last_saved", _datetime),
    "CurrencyCode": ("currency_code", _text),
    "CurrencySymbol": ("currency_symbol", _text),
    "CalendarUID": ("calendar_uid", _int),
    "MinutesPerDay": ("minutes_per_day", _int),
    "MinutesPerWeek": ("minutes_per_week", _int),
    "DaysPerMonth": ("days_per_month", _int),
    "BaselineForEarnedValue": ("baseline_for_earned_value", _int),
}


class _BadValue(Exception):
    def __init__(self, where: str, element: str, text: str, problem: str) -> None:
        super().__init__(f"{where}: <{element}> {text!r} is not valid ({problem})")


def _children(elem: Element, nslen: int) -> dict[str, str]:
    """Leaf children by local name → text (later duplicates win; MSPDI has none)."""
    return {child.tag[nslen:]: child.text or "" for child in elem}


class MspdiReader:
    """Reads one MSPDI file into a :class:`Schedule`; ``name`` is how errors refer to the file."""

    def __init__(self, name: str) -> None:
        self.name = name
        # the project's calendar settings, read as they arrive (before the tasks in every MSPDI
        # file): a duration written in days (P1D) is that many working days of this length
        self._minutes_per_day = 480.0
        self._minutes_per_week = 2400.0
        self._days_per_month = 20.0
        self._use_namespace("")

    @property
    def _minutes_per_day_int(self) -> int:
        return int(self._minutes_per_day)

    def _converter(self, convert: Callable[[str], Any]) -> Callable[[str], Any]:
        """The converter a task field uses: dates, durations, amounts, percentages through a cache.

        Why: a schedule has few distinct dates (working days at 08:00 and 17:00), durations
        (PT8H0M0S ...) and amounts (cost = actual cost = baseline cost), but 10^5 tasks hold ~20 of
        them each. One shared immutable object per distinct text instead of a new ``datetime`` (48
        bytes), ``Decimal`` (104) or ``float`` (24) each time keeps the parsed schedule near the
        file's size in memory, and skips the conversion for repeats.
        """
        if convert is _DURATION:
            convert = self._duration
        elif convert not in (_datetime, _float, _money):
            return convert
        cache: dict[str, Any] = {}

        def cached(text: str) -> Any:
            found = cache.get(text)
            if found is None:
                found = convert(text)
                if len(cache) < _CACHE_LIMIT:
                    cache[text] = found
            return found

        return cached

    def _duration(self, text: str) -> float:
        return iso_duration_minutes(text, self._minutes_per_day, self._minutes_per_week, self._days_per_month)

    def _setting(self, elem: Element) -> None:
        """A calendar setting among the project properties (not a container's child of that name)."""
        text = (elem.text or "").strip()
        if not text or len(elem):
            return
        try:
            value = float(text)
        except ValueError:
            return  # _properties reports it with the element's name
        if value <= 0:
            return
        local = elem.tag[self._nslen :]
        if local == "MinutesPerDay":
            self._minutes_per_day = value
        elif local == "MinutesPerWeek":
            self._minutes_per_week = value
        elif local == "DaysPerMonth":
            self._days_per_month = value

    def _use_namespace(self, ns: str) -> None:
        # Children are looked up by their full ``{namespace}Name`` tag: no string slicing per element.
        self._ns = ns
        self._nslen = len(ns)
        self._tag_uid = ns + "UID"
        specs: dict[str, tuple[str, Callable[[str], Any] | None, str]] = {
            ns + name: (attr, self._converter(convert), name)
            for name, (attr, convert) in _TASK_FIELDS.items()
        }
        for name, attr in (
            ("PredecessorLink", "links"),
            ("Baseline", "baselines"),
            ("ExtendedAttribute", "extended"),
            ("DurationFormat", "duration_format"),
            ("IsNull", "is_null"),
        ):
            specs[ns + name] = (attr, None, name)
        self._task_specs = specs
        self._cached_datetime = self._converter(_datetime)
        self._cached_duration = self._converter(_DURATION)
        self._cached_money = self._converter(_money)

    # -- entry points -------------------------------------------------------------------------

    def read_path(self, path: Path) -> tuple[Schedule, str]:
        """Parse ``path``; return the schedule and the SHA-256 of the bytes parsed."""
        try:
            with path.open("rb") as raw:
                return self.read_stream(raw)
        except OSError as exc:
            raise SourceDataError(f"cannot read the file: {exc.strerror}", record=self.name) from None

    def read_stream(self, raw: IO[bytes]) -> tuple[Schedule, str]:
        """Parse a seekable binary stream from its start."""
        reader = HashingReader(raw)
        # The parse allocates millions of small objects and creates no reference cycles; the cyclic
        # GC's passes over the growing heap would only make it slower the bigger the file (≈20 % at
        # 10^4 tasks, more at 10^5). Reference counting still frees everything as usual.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._refuse_other_formats(raw)
            self._refuse_other_xml(root_tag(raw))  # reads the prolog with defusedxml: no DTD
            raw.seek(0)
            schedule = self._parse(reader)
        except ParseError as exc:
            line, column = getattr(exc, "position", (None, None))
            where = f"{self.name}, line {line} column {column}" if line else self.name
            if reader.bytes_read == 0:
                message = "the file is empty"
            else:
                message = f"not well-formed XML ({_parse_problem(exc)})"
            raise SourceDataError(
                message,
                record=where,
                hint="the file is truncated or not saved as XML; save it again from Project as XML",
            ) from None
        except defusedxml.DefusedXmlException as exc:
            raise SourceDataError(
                f"refused: the file declares a DTD or entities ({type(exc).__name__}); MS Project never "
                "writes those, and they are how XML bombs and external-entity attacks work",
                record=self.name,
                hint="save the schedule again from MS Project, or check where this file came from",
            ) from None
        except _BadValue as exc:
            raise SourceDataError(str(exc), record=self.name) from None
        except UnicodeDecodeError as exc:
            raise SourceDataError(f"mis-encoded text ({exc.reason})", record=self.name) from None
        finally:
            if gc_was_enabled:
                gc.enable()
        return schedule, reader.sha256.hexdigest()

    def _refuse_other_formats(self, raw: IO[bytes]) -> None:
        """An empty file, or one that is not XML at all (an .mpp renamed .xml), said as such."""
        head = raw.read(512)
        raw.seek(0)
        found = sniff_binary(head)
        if found == "empty":
            raise SourceDataError(
                "the file is empty",
                record=self.name,
                hint="the copy or download did not finish; save it again from Project as XML",
            )
        if found is not None:
            what = {"mpp": "an .mpp", "xer": "a Primavera .xer", "mpx": "an .mpx", "zip": "a zip archive"}
            raise SourceDataError(
                f"not XML (looks like {what[found]}; use type msproject with the mpp extra, which "
                "reads it through MPXJ)",
                record=self.name,
                hint="pip install 'pmsync[mpp]' and a Java 11+ runtime; or save it from Project as XML",
            )

    def _refuse_other_xml(self, tag: str | None) -> None:
        """Another XML format (a Primavera P6 export saved as .xml) is named before any row is read."""
        if tag is None or tag in ("Project", "{" + MSPDI_NAMESPACE + "}Project"):
            return
        if tag.startswith("{") and tag.endswith("}Project"):
            raise SourceDataError(
                f"not an MS Project XML (MSPDI) file: namespace {tag[1:].partition('}')[0]!r}",
                record=self.name,
            )
        if tag.endswith("APIBusinessObjects") or "primavera" in tag.lower():
            raise SourceDataError(
                f"not an MS Project XML (MSPDI) file: the root element is {tag}, a Primavera P6 XML "
                "export (PMXML); pmsync reads those through MPXJ (the mpp extra, reader: auto)",
                record=self.name,
                hint="pip install 'pmsync[mpp]' and a Java 11+ runtime",
            )
        raise SourceDataError(
            f"not an MS Project XML (MSPDI) file: the root element is {tag}, expected "
            f"{{{MSPDI_NAMESPACE}}}Project",
            record=self.name,
        )

    # -- parsing ------------------------------------------------------------------------------

    def _parse(self, reader: HashingReader) -> Schedule:
        schedule = Schedule(reader="mspdi")
        events = iterparse(reader, events=("end",))
        handlers: dict[str, Callable[[Element], None]] = {}
        settings: frozenset[str] = frozenset()
        root: Element | None = None
        for _event, elem in events:
            if not handlers:
                # The namespace is known from the first element that ends (a child of <Project>).
                tag = elem.tag
                self._use_namespace(tag[: tag.index("}") + 1] if tag.startswith("{") else "")
                handlers = self._handlers(schedule)
                settings = frozenset(
                    self._ns + n for n in ("MinutesPerDay", "MinutesPerWeek", "DaysPerMonth")
                )
            handler = handlers.get(elem.tag)
            if handler is not None:
                handler(elem)
                elem.clear()  # the row is in the schedule now; free its subtree
            elif elem.tag in settings:
                self._setting(elem)  # kept (not cleared): _properties reads it again at the end
            root = elem  # the last element to end is the root
        if root is None or root.tag != self._ns + "Project":
            found = root.tag if root is not None else "nothing"
            raise SourceDataError(
                f"not an MS Project XML (MSPDI) file: the root element is {found}, expected "
                f"{{{MSPDI_NAMESPACE}}}Project",
                record=self.name,
            )
        if self._ns not in ("", "{" + MSPDI_NAMESPACE + "}"):
            raise SourceDataError(
                f"not an MS Project XML (MSPDI) file: namespace {self._ns[1:-1]!r}", record=self.name
            )
        schedule.properties = self._properties(root)
        _type_custom_values(schedule, self._duration)
        return schedule

    def _handlers(self, schedule: Schedule) -> dict[str, Callable[[Element], None]]:
        """What to do when each kind of row element ends."""

        def task(elem: Element) -> None:
            task = self._task(elem)
            if task is not None:
                schedule.tasks.append(task)

        def assignment(elem: Element) -> None:
            assignment = self._assignment(elem)
            if assignment is not None:
                schedule.assignments.append(assignment)

        def resource(elem: Element) -> None:
            resource = self._resource(elem)
            if resource is not None:
                schedule.resources[resource.uid] = resource

        def calendar(elem: Element) -> None:
            calendar = self._calendar(elem)
            schedule.calendars[calendar.uid] = calendar

        def field_definitions(elem: Element) -> None:
            for child in elem:
                definition = self._field_definition(child)
                if definition is not None:
                    schedule.fields[definition.field_id] = definition

        ns = self._ns
        return {
            ns + "Task": task,
            ns + "Assignment": assignment,
            ns + "Resource": resource,
            ns + "Calendar": calendar,
            ns + "ExtendedAttributes": field_definitions,
        }

    def _convert(self, where: str, element: str, text: str, convert: Callable[[str], Any]) -> Any:
        try:
            return convert(text)
        except (ValueError, ArithmeticError) as exc:
            raise _BadValue(where, element, text, str(exc)) from None

    def _properties(self, root: Element) -> ProjectProperties:
        values: dict[str, Any] = {}
        nslen = self._nslen
        for child in root:
            if len(child):
                continue  # containers (Tasks, Calendars, ...) were read already
            spec = _PROJECT_FIELDS.get(child.tag[nslen:])
            if spec is not None and child.text and child.text.strip():
                values[spec[0]] = self._convert("project", child.tag[nslen:], child.text, spec[1])
        return ProjectProperties(**values)

    def _task(self, elem: Element) -> Task | None:
        specs = self._task_specs
        values: dict[str, Any] = {}
        links: list[Link] = []
        baselines: list[BaselineValues] = []
        extended: list[tuple[int, Any]] = []  # raw (text, elapsed) here; typed by _type_custom_values
        duration_format: int | None = None
        is_null = False
        uid_text = elem.findtext(self._tag_uid)
        where = f"task UID {uid_text}" if uid_text else "a task without UID"
        for child in elem:
            spec = specs.get(child.tag)
            if spec is None:
                continue  # one of the ~60 elements pmsync does not use
            attr, convert, name = spec
            text = child.text
            if convert is not None:
                if text is not None and text.strip():
                    try:
                        values[attr] = convert(text)
                    except (ValueError, ArithmeticError) as exc:
                        raise _BadValue(where, name, text, str(exc)) from None
            elif attr == "links":
                link = self._link(child, where)
                if link is not None:
                    links.append(link)
            elif attr == "baselines":
                baselines.append(self._baseline(child, where))
            elif attr == "extended":
                extended += self._extended(child, where)
            elif attr == "duration_format" and text:
                duration_format = self._convert(where, name, text, _int)
            elif attr == "is_null" and text:
                is_null = self._convert(where, name, text, _bool)
        if is_null:
            return None  # a blank row in Project's task sheet
        if "uid" not in values:
            raise _BadValue(where, "UID", "", "every task needs a UID")
        task = Task(**values)
        task.duration_elapsed = duration_format in ELAPSED_FORMATS
        for baseline in baselines:
            baseline.duration_elapsed = task.duration_elapsed
        task.links = links
        task.baselines = baselines
        task.extended = extended
        return task

    def _extended(self, elem: Element, where: str) -> list[tuple[int, Any]]:
        """An ``ExtendedAttribute`` as ``(field id, (value text, elapsed))``; none when it has no value."""
        fields = _children(elem, self._nslen)
        if not (fields.get("FieldID") and "Value" in fields):
            return []
        fid = self._convert(where, "ExtendedAttribute/FieldID", fields["FieldID"], _int)
        elapsed = fields.get("DurationFormat", "").strip() in _ELAPSED_TEXT
        return [(fid, (fields["Value"], elapsed))]

    def _link(self, elem: Element, where: str) -> Link | None:
        fields = _children(elem, self._nslen)
        if fields.get("CrossProject", "0").strip() in ("1", "true"):
            return None  # a link into another file: its task is not in this schedule
        uid_text = fields.get("PredecessorUID", "").strip()
        if not uid_text:
            return None
        uid = self._convert(where, "PredecessorLink/PredecessorUID", uid_text, _int)
        link_type = self._convert(where, "PredecessorLink/Type", fields.get("Type") or "1", _int)
        lag = self._convert(where, "PredecessorLink/LinkLag", fields.get("LinkLag") or "0", _float)
        lag_format = self._convert(where, "PredecessorLink/LagFormat", fields.get("LagFormat") or "7", _int)
        if link_type not in LINK_TYPES:
            raise _BadValue(where, "PredecessorLink/Type", str(link_type), "expected 0-3")
        percent = lag_format in PERCENT_FORMATS
        return Link(
            predecessor_uid=uid,
            type=LINK_TYPES[link_type],
            # LinkLag is tenths of minutes, except for percentage lags where it is the percentage
            lag=lag if percent else lag / 10,
            lag_elapsed=lag_format in ELAPSED_FORMATS,
            lag_percent=percent,
        )

    def _baseline(self, elem: Element, where: str) -> BaselineValues:
        fields = _children(elem, self._nslen)
        number = self._convert(where, "Baseline/Number", fields.get("Number") or "", _int)
        if not 0 <= number <= 10:
            raise _BadValue(where, "Baseline/Number", str(number), "baselines are numbered 0-10")
        baseline = BaselineValues(number=number)
        for name, attr, convert in (
            ("Start", "start", self._cached_datetime),
            ("Finish", "finish", self._cached_datetime),
            ("Duration", "duration_minutes", self._cached_duration),
            ("Work", "work_minutes", self._cached_duration),
            ("Cost", "cost", self._cached_money),
        ):
            text = fields.get(name)
            if text and text.strip():
                setattr(baseline, attr, self._convert(where, f"Baseline/{name}", text, convert))
        return baseline

    def _resource(self, elem: Element) -> Resource | None:
        fields = _children(elem, self._nslen)
        where = f"resource UID {fields.get('UID')}"
        if fields.get("IsNull", "0").strip() in ("1", "true") or not fields.get("UID"):
            return None
        return Resource(
            uid=self._convert(where, "UID", fields["UID"], _int),
            name=fields.get("Name") or None,
            type=self._convert(where, "Type", fields.get("Type") or "1", _int),
        )

    def _assignment(self, elem: Element) -> Assignment | None:
        fields = _children(elem, self._nslen)
        where = f"assignment UID {fields.get('UID')}"
        if not fields.get("TaskUID") or not fields.get("ResourceUID"):
            return None
        work = fields.get("Work")
        return Assignment(
            task_uid=self._convert(where, "TaskUID", fields["TaskUID"], _int),
            resource_uid=self._convert(where, "ResourceUID", fields["ResourceUID"], _int),
            work_minutes=self._convert(where, "Work", work, self._duration) if work else None,
        )

    def _calendar(self, elem: Element) -> Calendar:
        ns = self._ns
        fields = _children(elem, self._nslen)
        where = f"calendar UID {fields.get('UID')}"
        base = fields.get("BaseCalendarUID")
        calendar = Calendar(
            uid=self._convert(where, "UID", fields.get("UID") or "", _int),
            name=fields.get("Name") or None,
            base_uid=self._convert(where, "BaseCalendarUID", base, _int) if base else None,
            is_base=fields.get("IsBaseCalendar", "0").strip() in ("1", "true"),
        )
        for day in elem.iterfind(f"{ns}WeekDays/{ns}WeekDay"):
            day_type = self._convert(where, "WeekDay/DayType", day.findtext(f"{ns}DayType") or "0", _int)
            if day_type == 0:
                # an exception day: Project writes every occurrence of every exception this way,
                # recurring ones expanded (the <Exceptions> block below holds their rules)
                exception = self._exception(day, where)
                if exception is not None:
                    calendar.exceptions.append(exception)
                continue
            if not 1 <= day_type <= 7:
                continue
            minutes = self._working_minutes(day)
            if minutes is not None:
                calendar.minutes_by_day[day_type] = minutes
        if not calendar.exceptions:
            # files written by other tools may carry only the Project 2007+ <Exceptions> block;
            # a one-off or daily exception is its TimePeriod (recurrence rules are not expanded)
            for exc in elem.iterfind(f"{ns}Exceptions/{ns}Exception"):
                kind = (exc.findtext(f"{ns}Type") or "1").strip()
                if kind == "1":
                    exception = self._exception(exc, where)
                    if exception is not None:
                        calendar.exceptions.append(exception)
        return calendar

    def _working_minutes(self, day: Element) -> int | None:
        """Working minutes of a WeekDay or Exception; None when it says neither (inherits)."""
        ns = self._ns
        working = (day.findtext(f"{ns}DayWorking") or "0").strip() in ("1", "true")
        times = day.findall(f"{ns}WorkingTimes/{ns}WorkingTime")
        if not working:
            return 0
        if times:
            return sum(_span_minutes(t.findtext(f"{ns}FromTime"), t.findtext(f"{ns}ToTime")) for t in times)
        return None

    def _exception(self, elem: Element, where: str) -> tuple[date, date, int] | None:
        ns = self._ns
        first = elem.findtext(f"{ns}TimePeriod/{ns}FromDate")
        last = elem.findtext(f"{ns}TimePeriod/{ns}ToDate")
        if not first or not last:
            return None
        start = self._convert(where, "TimePeriod/FromDate", first, _datetime).date()
        end = self._convert(where, "TimePeriod/ToDate", last, _datetime).date()
        minutes = self._working_minutes(elem)
        return (start, end, self._minutes_per_day_int if minutes is None else minutes)

    def _field_definition(self, elem: Element) -> FieldDefinition | None:
        fields = _children(elem, self._nslen)
        if not fields.get("FieldID") or not fields.get("FieldName"):
            return None
        return FieldDefinition(
            field_id=self._convert("extended attributes", "FieldID", fields["FieldID"], _int),
            field_name=fields["FieldName"],
            alias=fields.get("Alias") or None,
            kind=kind_of(fields["FieldName"]),
        )


#: distinct texts kept per converter: bounded, so a file of all-different values cannot grow it
_CACHE_LIMIT = 1 << 16
_SETTINGS = ("MinutesPerDay", "MinutesPerWeek", "DaysPerMonth")
_ELAPSED_TEXT = frozenset(str(code) for code in ELAPSED_FORMATS)


def _type_custom_values(schedule: Schedule, duration: Callable[[str], float]) -> None:
    """Each task's raw ``(text, elapsed)`` custom values as typed values, by their field's kind.

    Done once the whole file is read: a field's definition (its name, hence its kind) is only
    certain then. A field without a definition is text.
    """
    kinds = {fid: definition.kind for fid, definition in schedule.fields.items()}
    for task in schedule.tasks:
        for fid, _ in task.extended:
            if fid not in kinds and fid in TASK_FIELD_NAMES:
                name = TASK_FIELD_NAMES[fid]  # a value without a definition: Project's own field id
                schedule.fields[fid] = FieldDefinition(field_id=fid, field_name=name, kind=kind_of(name))
                kinds[fid] = schedule.fields[fid].kind
        if task.extended:
            raw_values: list[tuple[int, Any]] = task.extended
            task.extended = [
                (fid, parse_mspdi(kinds.get(fid, "text"), text, elapsed, duration))
                for fid, (text, elapsed) in raw_values
            ]


def _span_minutes(start: str | None, end: str | None) -> int:
    if not start or not end:
        return 0

    def minutes(text: str) -> int:
        hours, mins, *_ = (int(p) for p in text.strip().split(":"))
        return hours * 60 + mins

    span = minutes(end) - minutes(start)
    return span if span > 0 else span + 1440  # ToTime 00:00:00 means midnight at the day's end


def _parse_problem(exc: ParseError) -> str:
    text = str(exc)
    return text.split(":", 1)[0] if ": line" in text else text


def read_mspdi(path: Path, name: str | None = None) -> tuple[Schedule, str]:
    """Parse an MSPDI file; return the schedule and the SHA-256 of its bytes."""
    return MspdiReader(name or path.name).read_path(path)
