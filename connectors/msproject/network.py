"""Total slack and the critical path computed from the schedule's logic, for files that do not carry
them (schedules written by tools other than Project leave ``TotalSlack`` out, and the DCMA checks
that need float could not run).

The critical path method, in working days of the project calendar:

- **forward pass** (early start/finish), tasks in topological order: a task starts no earlier than
  the project start and than each link allows (FS: predecessor's finish + lag; SS: its start + lag;
  FF: its finish + lag - own duration; SF: its start + lag - own duration), then its constraint
  (SNET, FNET; MSO and MFO fix it). A task with an actual start keeps its dates as the file states
  them: progress is fact, not a forecast.
- **backward pass** (late finish/start) from the project finish (the latest early finish), links
  mirrored, then SNLT, FNLT, MSO, MFO and the task's deadline, which Project also treats as a late
  finish limit.
- **total slack** = late finish - early finish; **critical** = total slack <= 0.

Lags are working days (working-time lags), calendar days times the working share of the week
(elapsed lags), or a percentage of the predecessor's duration. Summary tasks are not nodes: their
slack is the least of their tasks', and links on a summary task are not followed (MS Project
applies them to every task under it; the count of ignored links is returned). The network counts in
the project calendar; a task with its own calendar counts its duration in that calendar's working
days (a task worked on Saturdays finishes sooner), lags in the project calendar.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .calendars import WorkWeek, project_work_week, resolve
from .schedule import Link, Schedule, Task

_DAY = timedelta(days=1)
_MINUTES_PER_ELAPSED_DAY = 1440
#: the working day's span in minutes from midnight, for elapsed time: 08:00-17:00 (Project's default)
_DAY_START, _DAY_SPAN = 8 * 60, 9 * 60


@dataclass(frozen=True)
class SlackResult:
    """Computed total slack (working days) and critical flag per task UID."""

    total_slack_days: dict[int, float]
    critical: dict[int, bool]
    #: links not followed (to or from a summary task, or to a task not in the file)
    ignored_links: int


class _Days:
    """Working-day numbers of dates in the project calendar: day ``k`` starts at index ``k``."""

    def __init__(self, week: WorkWeek, first: date, last: date) -> None:
        self.first = first - timedelta(days=400)
        end = last + timedelta(days=4000)
        self.working: list[date] = []
        day = self.first
        while day <= end:
            if week.is_working(day):
                self.working.append(day)
            day += _DAY
        if not self.working:
            raise ValueError("the project calendar has no working day")

    def start_index(self, moment: datetime) -> float:
        """A start: the beginning of its working day (or of the next one)."""
        return float(bisect_left(self.working, moment.date()))

    def finish_index(self, moment: datetime) -> float:
        """A finish: the end of its working day; at or before 08:00, the end of the day before."""
        day = moment.date()
        if moment.time() <= time(8, 0):
            return float(bisect_left(self.working, day))
        return float(bisect_right(self.working, day))

    def position(self, moment: datetime) -> float:
        """Any moment as a working-day number: within a working day, the share of it gone."""
        day = moment.date()
        k = bisect_left(self.working, day)
        if k >= len(self.working) or self.working[k] != day:
            return float(k)  # a non-working day: the next working day's start
        hours = (moment.hour * 60 + moment.minute - _DAY_START) / _DAY_SPAN
        return k + min(1.0, max(0.0, hours))

    def moment(self, index: float, finish: bool) -> datetime:
        """A working-day number as a moment; a whole number read as a finish is the day before's end."""
        k = int(index)
        if finish and index == k and k > 0:
            return datetime.combine(self.working[min(k, len(self.working)) - 1], time(17, 0))
        k = min(max(k, 0), len(self.working) - 1)
        start = datetime.combine(self.working[k], time(8, 0))
        return start + timedelta(minutes=(index - int(index)) * _DAY_SPAN)

    def shift(self, index: float, working_days: float, elapsed_minutes: float | None, finish: bool) -> float:
        """``index`` moved by working days, or by calendar minutes for elapsed durations and lags."""
        if elapsed_minutes is None:
            return index + working_days
        return self.position(self.moment(index, finish) + timedelta(minutes=elapsed_minutes))


def _task_calendars(
    schedule: Schedule, tasks: Iterable[Task], first: date, last: date
) -> dict[int, _Days | None]:
    """The working days of each task calendar other than the project's (``None``: a calendar without
    a working day, or one the file does not define; such tasks are counted in the project's)."""
    own_days: dict[int, _Days | None] = {}
    for task in tasks:
        uid = task.calendar_uid
        if uid is not None and uid >= 0 and uid != schedule.properties.calendar_uid and uid not in own_days:
            week_of_task = resolve(schedule, uid, (first, last))
            try:
                own_days[uid] = _Days(week_of_task, first, last) if week_of_task is not None else None
            except ValueError:
                own_days[uid] = None  # a calendar without a working day: counted in the project's
    return own_days


def compute_slack(schedule: Schedule) -> SlackResult | None:
    """Total slack and critical flags of every task; ``None`` when the logic has a loop or the
    schedule has no dates to anchor it."""
    week = project_work_week(schedule) or WorkWeek((480, 480, 480, 480, 480, 0, 0), {})
    tasks = [t for t in schedule.tasks if t.active]
    dated = [t for t in tasks if t.start is not None and t.finish is not None]
    if not dated:
        return None
    first = min(t.start for t in dated if t.start is not None).date()
    last = max(t.finish for t in dated if t.finish is not None).date()
    try:
        days = _Days(week, first, last)
    except ValueError:
        return None
    minutes_per_day = schedule.properties.minutes_per_day or 480
    summaries = _summaries(tasks)
    nodes = {t.uid: t for t in tasks if t.uid not in summaries and t.start is not None}
    own_days = _task_calendars(schedule, nodes.values(), first, last)
    spans = {
        uid: _Duration(
            _span(t, minutes_per_day),
            days,
            own_days.get(t.calendar_uid) if t.calendar_uid is not None else None,
        )
        for uid, t in nodes.items()
    }

    successors: dict[int, list[_Edge]] = defaultdict(list)
    predecessors: dict[int, list[_Edge]] = defaultdict(list)
    ignored = sum(len(t.links) for t in tasks if t.uid in summaries)
    for uid, task in nodes.items():
        for link in task.links:
            if link.predecessor_uid not in nodes:
                ignored += 1
                continue
            edge = _edge(link, uid, spans[link.predecessor_uid].span, minutes_per_day)
            predecessors[uid].append(edge)
            successors[link.predecessor_uid].append(edge)

    order = _topological(nodes, predecessors, successors)
    if order is None:
        return None
    project_start = float(min(days.start_index(t.start) for t in nodes.values() if t.start is not None))
    early_start: dict[int, float] = {}
    early_finish: dict[int, float] = {}
    for uid in order:
        task, span = nodes[uid], spans[uid]
        if task.actual_start is not None or task.manual:
            assert task.start is not None
            es = days.start_index(task.start)
            ef = days.finish_index(task.finish) if task.finish is not None else span.after(es)
        else:
            es = project_start
            for edge in predecessors[uid]:
                p = edge.predecessor
                es = max(es, _forward(edge, early_start[p], early_finish[p], span, days))
            es = _forward_constraint(task, es, span, days)
            ef = span.after(es)
        early_start[uid], early_finish[uid] = es, ef

    project_finish = max(early_finish.values())
    late_finish: dict[int, float] = {}
    late_start: dict[int, float] = {}
    for uid in reversed(order):
        task, span = nodes[uid], spans[uid]
        lf = project_finish
        for edge in successors[uid]:
            lf = min(lf, _backward(edge, late_start[edge.successor], late_finish[edge.successor], span, days))
        lf = _backward_constraint(task, lf, span, days)
        late_finish[uid] = lf
        late_start[uid] = span.before(lf)

    slack = {uid: round(spans[uid].slack(early_finish[uid], late_finish[uid]), 4) for uid in order}
    for summary_uid, members in summaries.items():
        values = [slack[m] for m in members if m in slack]
        if values:
            slack[summary_uid] = min(values)
    return SlackResult(slack, {uid: value <= 0 for uid, value in slack.items()}, ignored)


@dataclass(frozen=True, slots=True)
class _Edge:
    predecessor: int
    successor: int
    kind: str
    #: working days, or None-equivalent 0 when the lag is elapsed (then ``elapsed_lag`` minutes)
    lag: float
    elapsed_lag: float | None


def _forward(edge: _Edge, pred_start: float, pred_finish: float, span: _Duration, days: _Days) -> float:
    """The earliest start a link allows its successor (FS, SS bind its start; FF, SF its finish)."""
    from_finish = edge.kind in ("FS", "FF")
    bound = days.shift(pred_finish if from_finish else pred_start, edge.lag, edge.elapsed_lag, from_finish)
    if edge.kind in ("FS", "SS"):
        return bound
    return span.before(bound)  # a finish bound less our duration


def _backward(edge: _Edge, succ_start: float, succ_finish: float, span: _Duration, days: _Days) -> float:
    """The latest finish a link allows its predecessor (FS, FF bind its finish; SS, SF its start)."""
    to_finish = edge.kind in ("FF", "SF")
    base = succ_finish if to_finish else succ_start
    bound = days.shift(base, -edge.lag, _neg(edge.elapsed_lag), to_finish)
    if edge.kind in ("FS", "FF"):
        return bound
    return span.after(bound)  # a start bound plus our duration


class _Duration:
    """A task's duration moved along the project's working-day axis: in working days of the task's
    own calendar when it has one (a task worked on Saturdays finishes sooner), in calendar time
    when the duration is elapsed, else in the project calendar's working days."""

    def __init__(self, span: tuple[float, float | None], days: _Days, own: _Days | None) -> None:
        self.span = span
        self._days = days
        self._own = own if span[1] is None else None

    def after(self, start: float) -> float:
        """The finish of the task started at ``start``."""
        working, elapsed = self.span
        if self._own is None:
            return self._days.shift(start, working, elapsed, False)
        # a start on the project axis is also the end of the project's previous working day: the
        # task's own calendar may work in between (a Saturday)
        on_own = self._own.position(self._days.moment(start, True)) + working
        return self._days.position(self._own.moment(on_own, True))

    def slack(self, early_finish: float, late_finish: float) -> float:
        """Late finish less early finish, in the working days of the task's calendar (as Project)."""
        if self._own is None:
            return late_finish - early_finish
        late = self._own.position(self._days.moment(late_finish, True))
        return late - self._own.position(self._days.moment(early_finish, True))

    def before(self, finish: float) -> float:
        """The start of the task finished at ``finish``."""
        working, elapsed = self.span
        if self._own is None:
            return self._days.shift(finish, -working, _neg(elapsed), True)
        moment = self._days.moment(finish, True)
        on_own = self._own.position(moment) - working
        return self._days.position(self._own.moment(on_own, False))


def _neg(minutes: float | None) -> float | None:
    return None if minutes is None else -minutes


def _span(task: Task, minutes_per_day: float) -> tuple[float, float | None]:
    """A task's duration as (working days, calendar minutes if it is an elapsed duration)."""
    minutes = task.duration_minutes or 0.0
    if task.duration_elapsed:
        return 0.0, minutes
    return minutes / minutes_per_day, None


def _edge(link: Link, successor: int, predecessor_span: tuple[float, float | None], per_day: float) -> _Edge:
    if link.lag_percent:
        days, elapsed = predecessor_span
        if elapsed is not None:
            return _Edge(link.predecessor_uid, successor, link.type, 0.0, elapsed * link.lag / 100)
        return _Edge(link.predecessor_uid, successor, link.type, days * link.lag / 100, None)
    if link.lag_elapsed:
        return _Edge(link.predecessor_uid, successor, link.type, 0.0, link.lag)
    return _Edge(link.predecessor_uid, successor, link.type, link.lag / per_day, None)


def _summaries(tasks: list[Task]) -> dict[int, list[int]]:
    """Summary task UID → the UIDs of the tasks under it (from the outline levels, in row order)."""
    members: dict[int, list[int]] = {}
    stack: list[tuple[int, int]] = []
    for task in tasks:
        level = task.outline_level if task.outline_level is not None else 1
        while stack and stack[-1][0] >= level:
            stack.pop()
        for _, parent in stack:
            members.setdefault(parent, []).append(task.uid)
        stack.append((level, task.uid))
    return {uid: found for uid, found in members.items() if found}


def _forward_constraint(task: Task, early_start: float, span: _Duration, days: _Days) -> float:
    kind, moment = task.constraint_type, task.constraint_date
    if kind is None or moment is None:
        return early_start
    if kind == 2:  # MSO
        return days.start_index(moment)
    if kind == 3:  # MFO
        return span.before(days.finish_index(moment))
    if kind == 4:  # SNET
        return max(early_start, days.start_index(moment))
    if kind == 6:  # FNET
        return max(early_start, span.before(days.finish_index(moment)))
    return early_start


def _backward_constraint(task: Task, late_finish: float, span: _Duration, days: _Days) -> float:
    kind, moment = task.constraint_type, task.constraint_date
    if task.deadline is not None:
        late_finish = min(late_finish, days.finish_index(task.deadline))
    if kind is None or moment is None:
        return late_finish
    if kind == 2:  # MSO
        return span.after(days.start_index(moment))
    if kind == 3:  # MFO
        return days.finish_index(moment)
    if kind == 5:  # SNLT
        return min(late_finish, span.after(days.start_index(moment)))
    if kind == 7:  # FNLT
        return min(late_finish, days.finish_index(moment))
    return late_finish


def _topological(
    nodes: dict[int, Task], predecessors: dict[int, list[_Edge]], successors: dict[int, list[_Edge]]
) -> list[int] | None:
    waiting = {uid: len(predecessors[uid]) for uid in nodes}
    ready = deque(uid for uid in nodes if waiting[uid] == 0)
    order: list[int] = []
    while ready:
        uid = ready.popleft()
        order.append(uid)
        for edge in successors[uid]:
            waiting[edge.successor] -= 1
            if waiting[edge.successor] == 0:
                ready.append(edge.successor)
    return order if len(order) == len(nodes) else None
