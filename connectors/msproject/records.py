"""Turn a parsed :class:`~.schedule.Schedule` into pmsync's normalized records.

One file becomes: a :class:`Project` (from the project properties), one :class:`WorkItem` per task
(summary / task / milestone, parent from the outline structure, predecessors, resources, links to
other systems from mapped custom fields), and for every baseline stored in the file a
:class:`Baseline` plus one :class:`BaselineItem` per task that has values in it.

External ids are ``<file>#<task UID>`` so one source can hold many files without collisions; task
UIDs (not row IDs) are used because Project keeps them stable when rows are inserted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pmsync.errors import SourceDataError
from pmsync.model import (
    Baseline,
    BaselineItem,
    CustomValue,
    Dependency,
    ItemCalendar,
    Project,
    Record,
    SourceRef,
    StatusCategory,
    WorkItem,
    WorkItemKind,
)

from .calendars import WorkWeek, project_work_week, resolve
from .custom_fields import CustomDuration, CustomFieldValue, is_default
from .mapping import MSProjectMapping
from .network import compute_slack
from .schedule import (
    CONSTRAINT_TYPES,
    Link,
    Schedule,
    Task,
)

SYSTEM = "msproject"
_MINUTES_PER_ELAPSED_DAY = 1440


@dataclass(frozen=True)
class FileIdentity:
    """Who a file's records belong to: the source, the file's key within it, the pmsync project."""

    source_name: str
    file_key: str
    project_key: str
    modified: datetime | None = None

    @property
    def scope(self) -> str:
        return f"{self.source_name}:{self.file_key}"

    def ref(self, external_id: str) -> SourceRef:
        return SourceRef(system=SYSTEM, instance=self.source_name, external_id=external_id)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _hours(minutes: float | None) -> float | None:
    return round(minutes / 60, 4) if minutes is not None else None


def _money(value: Decimal | None) -> Decimal | None:
    return value.quantize(Decimal("0.01")) if value is not None else None


class ScheduleRecords:
    """Builds the records of one schedule; iterate :meth:`records`."""

    def __init__(self, schedule: Schedule, identity: FileIdentity, mapping: MSProjectMapping) -> None:
        self.schedule = schedule
        self.identity = identity
        self.mapping = mapping
        props = schedule.properties
        # slack and critical flags computed from the logic, for files that do not carry them; when
        # a file does, its values win (the computed ones are a cross-check: tests/bench compare)
        self.computed = (
            compute_slack(schedule)
            if any(t.total_slack_minutes is None and not t.summary for t in schedule.tasks)
            else None
        )
        calendar_day, calendar_week = schedule.project_calendar_minutes()
        self.minutes_per_day = props.minutes_per_day or calendar_day or 480
        self.minutes_per_week = props.minutes_per_week or calendar_week or 5 * self.minutes_per_day
        self.project_week = project_work_week(schedule)
        self._item_calendars: dict[int, ItemCalendar | None] = {}

    # -- helpers --------------------------------------------------------------------------------

    def _item_id(self, uid: int) -> str:
        return f"{self.identity.file_key}#{uid}"

    def _days(self, minutes: float | None, elapsed: bool) -> float | None:
        if minutes is None:
            return None
        per_day = _MINUTES_PER_ELAPSED_DAY if elapsed else self.minutes_per_day
        return round(minutes / per_day, 4)

    def _custom_value(self, value: CustomFieldValue) -> CustomValue:
        """One representation whichever reader typed it (see :mod:`.custom_fields`)."""
        if isinstance(value, CustomDuration):
            return self._days(value.minutes, value.elapsed)
        if isinstance(value, Decimal):
            return float(_money(value) or 0)
        if isinstance(value, datetime):
            return value.date().isoformat()
        return value

    def _custom(self, task: Task) -> tuple[dict[str, CustomValue], dict[str, str]]:
        fields = self.schedule.fields
        by_label: dict[str, CustomValue] = {}
        by_field_name: dict[str, str] = {}
        for field_id, value in task.extended:
            definition = fields.get(field_id)
            if is_default(value) and (definition is None or definition.alias is None):
                continue  # an unused field reads as 0/false in an .mpp; only a named field keeps it
            label = definition.label if definition else f"Field{field_id}"
            name = definition.field_name if definition else label
            converted = self._custom_value(value)
            text = "" if converted is None else str(converted)
            by_field_name[name] = text
            by_field_name[label] = text
            if self.mapping.keeps(label, name):
                by_label[label] = converted
        links: dict[str, str] = {}
        for system, candidates in self.mapping.links.items():
            for candidate in candidates:
                value = by_field_name.get(candidate, "").strip()
                if value:
                    links[system] = value
                    break
        return by_label, links

    def _dependency(self, link: Link, tasks_by_uid: dict[int, Task]) -> Dependency | None:
        predecessor = tasks_by_uid.get(link.predecessor_uid)
        if predecessor is None:
            return None  # a link to a blank row or a task that is not in the file
        if link.lag_percent:
            # a percentage lag is a share of the predecessor's duration
            pred_days = self._days(predecessor.duration_minutes, predecessor.duration_elapsed) or 0.0
            lag_days = round(pred_days * link.lag / 100, 4)
        else:
            lag_days = self._days(link.lag, link.lag_elapsed) or 0.0
        return Dependency(predecessor=self._item_id(link.predecessor_uid), type=link.type, lag_days=lag_days)

    # -- records ----------------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        yield self.project()
        tasks = self.schedule.tasks
        if not self.mapping.include_project_summary:
            tasks = [t for t in tasks if not (t.uid == 0 and (t.outline_level or 0) == 0)]
        tasks_by_uid = {t.uid: t for t in tasks}
        parents = self._parents(tasks)
        has_children = set(parents.values())
        resources = self._resources_by_task()
        for task in tasks:
            yield self.work_item(
                task, parents.get(task.uid), task.uid in has_children, resources, tasks_by_uid
            )
        yield from self.baselines(tasks)

    def project(self) -> Project:
        props = self.schedule.properties
        ident = self.identity
        return Project(
            source=ident.ref(ident.file_key),
            source_modified=ident.modified,
            project=ident.project_key,
            scope=ident.scope,
            key=ident.project_key,
            name=self._project_name,
            manager=props.manager or None,
            currency=(props.currency_code or "USD").upper(),
            start=_day(props.start),
            finish=_day(props.finish),
            status_date=_day(props.status_date),
            minutes_per_day=self.minutes_per_day,
            minutes_per_week=self.minutes_per_week,
            **self._calendar_fields(),
        )

    def _calendar_fields(self) -> dict[str, Any]:
        week = project_work_week(self.schedule)
        if week is None or len(week.nonworking_weekdays) == 7:
            return {}  # no project calendar (or one without a working day): the agency's applies
        return {
            "nonworking_weekdays": week.nonworking_weekdays,
            "holidays": week.holidays,
            "extra_working_days": week.extra_working_days,
        }

    @property
    def _project_name(self) -> str:
        props = self.schedule.properties
        ident = self.identity
        return props.title or self._summary_name() or _without_suffix(props.name) or ident.file_key

    def _summary_name(self) -> str | None:
        # Project shows the project summary task's name as the project's name when Title is empty
        for task in self.schedule.tasks[:1]:
            if task.uid == 0 and task.name:
                return task.name
        return None

    def _parents(self, tasks: list[Task]) -> dict[int, int]:
        """Parent UID of each task, from the outline levels in file (row) order."""
        parents: dict[int, int] = {}
        stack: list[tuple[int, int]] = []  # (outline level, uid)
        for task in tasks:
            level = task.outline_level
            if level is None:
                level = task.outline_number.count(".") + 1 if task.outline_number else 1
                task.outline_level = level
            while stack and stack[-1][0] >= level:
                stack.pop()
            if stack:
                parents[task.uid] = stack[-1][1]
            stack.append((level, task.uid))
        return parents

    def _resources_by_task(self) -> dict[int, list[tuple[float, str]]]:
        by_task: dict[int, list[tuple[float, str]]] = defaultdict(list)
        resources = self.schedule.resources
        for assignment in self.schedule.assignments:
            resource = resources.get(assignment.resource_uid)
            if resource is None or not resource.name:
                continue  # -65535 is Project's "unassigned" placeholder
            by_task[assignment.task_uid].append((assignment.work_minutes or 0.0, resource.name))
        return by_task

    def work_item(
        self,
        task: Task,
        parent_uid: int | None,
        has_children: bool,
        resources: dict[int, list[tuple[float, str]]],
        tasks_by_uid: dict[int, Task],
    ) -> WorkItem:
        ident = self.identity
        # the project summary task (UID 0, outline level 0) is a summary even in an empty schedule,
        # where MPXJ reads it from an .mpp as a plain task
        project_summary = task.uid == 0 and task.outline_level == 0
        kind: WorkItemKind = "summary" if (task.summary or has_children or project_summary) else "task"
        if kind == "task" and task.milestone:
            kind = "milestone"
        percent = task.percent_complete
        for field, value in (
            ("PercentComplete", percent),
            ("PhysicalPercentComplete", task.physical_percent_complete),
        ):
            if value is not None and not 0 <= value <= 100:
                # Refused, not clamped: -40 stored as 0 hid a broken export (docs/guarantees.md).
                raise SourceDataError(
                    f"task UID {task.uid} ({task.name or 'unnamed'}): {field} {value:g} is outside 0..100",
                    source=ident.source_name,
                    record=ident.file_key,
                    hint="fix the value in Microsoft Project and save the file again",
                )
        status_category: StatusCategory = "not_started"
        status = "Not started"
        if task.actual_finish is not None or (percent is not None and percent >= 100):
            status_category, status = "done", "Complete"
        elif task.actual_start is not None or (percent or 0) > 0:
            status_category, status = "in_progress", "In progress"
        assigned = sorted(resources.get(task.uid, ()), key=lambda r: (-r[0], r[1]))
        custom, links = self._custom(task)
        if task.manual:
            custom["manually_scheduled"] = True
        if not task.active:
            custom["inactive"] = True
        predecessors = tuple(
            dep for dep in (self._dependency(link, tasks_by_uid) for link in task.links) if dep is not None
        )
        return WorkItem(
            source=ident.ref(self._item_id(task.uid)),
            project=ident.project_key,
            scope=ident.scope,
            key=str(task.id) if task.id is not None else None,
            # Project shows an unnamed project summary task with the project's name (an .mpp stores it)
            name=task.name or (self._project_name if project_summary else ""),
            kind=kind,
            parent=self._item_id(parent_uid) if parent_uid is not None else None,
            wbs=task.wbs or task.outline_number or ("0" if project_summary else None),
            outline_level=task.outline_level,
            status=status,
            status_category=status_category,
            start=_day(task.start),
            finish=_day(task.finish),
            due=_day(task.deadline),
            actual_start=_day(task.actual_start),
            actual_finish=_day(task.actual_finish),
            duration_days=self._days(task.duration_minutes, task.duration_elapsed),
            percent_complete=_clamp(percent),
            physical_percent_complete=_clamp(task.physical_percent_complete),
            effort_estimate_hours=_hours(task.work_minutes),
            effort_actual_hours=_hours(task.actual_work_minutes),
            effort_remaining_hours=_hours(task.remaining_work_minutes),
            cost=_money(task.cost),
            actual_cost=_money(task.actual_cost),
            bcws=_money(task.bcws),
            bcwp=_money(task.bcwp),
            acwp=_money(task.acwp),
            assignee=assigned[0][1] if assigned else None,
            resources=tuple(sorted({name for _, name in assigned})),
            predecessors=predecessors,
            constraint_type=CONSTRAINT_TYPES.get(task.constraint_type)
            if task.constraint_type is not None
            else None,
            constraint_date=_day(task.constraint_date),
            deadline=_day(task.deadline),
            critical=self._critical(task),
            total_slack_days=self._slack_days(task),
            calendar=self._item_calendar(task),
            links=links,
            custom=custom,
        )

    def _item_calendar(self, task: Task) -> ItemCalendar | None:
        """The task's own calendar (Task Information > Advanced > Calendar) with what it inherits,
        when it differs from the project calendar; ``None`` when the project calendar applies.

        Project schedules a task that has its own calendar on it (combined with its resources'
        calendars unless "Ignore resource calendars" is set; pmsync does not read resource
        calendars). A calendar without a working day is ignored, as the slack computation does."""
        uid = task.calendar_uid
        if uid is None or uid < 0 or uid == self.schedule.properties.calendar_uid:
            return None
        if uid not in self._item_calendars:
            props = self.schedule.properties
            around = (_day(props.start), _day(props.finish))
            week = resolve(self.schedule, uid, around)
            self._item_calendars[uid] = None if week is None else _own_calendar(week, self.project_week)
        return self._item_calendars[uid]

    def _slack_days(self, task: Task) -> float | None:
        if task.total_slack_minutes is not None:
            own = self._item_calendar(task)
            if own is not None and own.minutes_per_day:
                # Project keeps slack in minutes of the task's own calendar; a day of it is that
                # calendar's working day (3 days on a 24-hour calendar, not 9 "8-hour days"), which
                # is also how the computed slack counts (network.py)
                return round(task.total_slack_minutes / own.minutes_per_day, 4)
            return self._days(task.total_slack_minutes, False)
        if self.computed is None:
            return None
        return self.computed.total_slack_days.get(task.uid)

    def _critical(self, task: Task) -> bool | None:
        if task.critical is not None:
            return task.critical
        if self.computed is not None and task.uid in self.computed.critical:
            return self.computed.critical[task.uid]
        return task.critical

    def baselines(self, tasks: list[Task]) -> Iterator[Record]:
        ident = self.identity
        props = self.schedule.properties
        held = [(task, values) for task in tasks for values in task.baselines if values.holds_values]
        # a baseline the file really holds: Project recorded when it was saved (.mpp), or some task
        # has a value in it. An .mpp answers for all 11 baselines with zeros and no dates when they
        # were never saved; those would look complete in `pmsync baseline list` and could be adopted.
        numbers = sorted({values.number for _, values in held} | set(props.baseline_dates))
        for number in numbers:
            name = "Baseline" if number == 0 else f"Baseline {number}"
            if props.baseline_for_earned_value == number:
                name += " (earned value baseline)"
            captured = props.baseline_dates.get(number)
            yield Baseline(
                source=ident.ref(f"{ident.file_key}#baseline{number}"),
                project=ident.project_key,
                scope=ident.scope,
                number=number,
                name=name,
                captured_at=captured.replace(tzinfo=UTC) if captured is not None else None,
                reason=f"stored in {ident.file_key}",
            )
        for task, values in held:
            yield BaselineItem(
                source=ident.ref(f"{self._item_id(task.uid)}#baseline{values.number}"),
                project=ident.project_key,
                scope=ident.scope,
                baseline_number=values.number,
                item=self._item_id(task.uid),
                start=_day(values.start),
                finish=_day(values.finish),
                # a saved baseline's value MSPDI omits is 0 in Project (and in the .mpp of it)
                cost=_money(values.cost) if values.cost is not None else Decimal("0.00"),
                work_hours=_hours(values.work_minutes) or 0.0,
                duration_days=self._days(values.duration_minutes, values.duration_elapsed) or 0.0,
            )


def _own_calendar(week: WorkWeek, project: WorkWeek | None) -> ItemCalendar | None:
    """``week`` as a work item's calendar; ``None`` when it has no working day or works exactly as
    the project calendar does (nothing to carry)."""
    if len(week.nonworking_weekdays) == 7:
        return None
    own = _facts(week)
    if project is not None and own == _facts(project):
        return None
    nonworking, holidays, extra, per_day = own
    return ItemCalendar(
        name=week.name,
        nonworking_weekdays=nonworking,
        holidays=holidays,
        extra_working_days=extra,
        minutes_per_day=per_day,
    )


def _facts(week: WorkWeek) -> tuple[tuple[int, ...], tuple[date, ...], tuple[date, ...], int | None]:
    working = [m for m in week.weekday_minutes if m > 0]
    per_day = round(sum(working) / len(working)) if working else None
    return week.nonworking_weekdays, week.holidays, week.extra_working_days, per_day


def _without_suffix(name: str | None) -> str | None:
    if name and name.lower().endswith((".xml", ".mpp", ".mpx", ".xer")):
        return name.rsplit(".", 1)[0]
    return name


def _clamp(percent: float | None) -> float | None:
    return None if percent is None else min(100.0, max(0.0, percent))
