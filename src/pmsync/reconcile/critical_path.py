"""DCMA checks 12 (critical path test) and 13 (critical path length index) need the network itself.

The critical path test asks whether the schedule's logic really drives its finish: add a large delay
to one critical task, re-run the forward pass, and see whether the project finish moves by as much.
It fails when logic is missing, when a hard constraint pins a date (absorbing the delay), or when the
"critical" flag does not come from the logic at all. The forward pass works in whole working days
from the earliest date in the schedule, with FS/SS/FF/SF relationships, leads/lags, and hard
constraints honoured the way MS Project does by default ("tasks will always honor their constraint
dates").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import date

from pmsync.model import WorkItem
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.results import HealthCheck

_MUST_START = {"2", "mso", "muststarton"}
_MUST_FINISH = {"3", "mfo", "mustfinishon"}
_START_NO_LATER = {"5", "snlt", "startnolaterthan"}
_FINISH_NO_LATER = {"7", "fnlt", "finishnolaterthan"}


def _code(value: str | None) -> str:
    return "".join(ch for ch in (value or "").lower() if ch.isalnum())


class ForwardPass:
    """Early start / early finish offsets (working days from ``anchor``) for every task."""

    def __init__(self, tasks: Sequence[WorkItem], calendar: WorkingCalendar) -> None:
        self.tasks = {t.source.external_id: t for t in tasks}
        self.calendar = calendar
        dates = [d for t in tasks for d in (t.start, t.actual_start) if d is not None]
        dates += [t.finish for t in tasks if t.finish is not None]
        self.anchor: date = min(dates) if dates else date(2000, 1, 1)
        self.order, self.cyclic = self._topological_order()

    def offset(self, day: date) -> int:
        return self.calendar.variance(self.anchor, day)

    def duration(self, task: WorkItem) -> int:
        if task.kind == "milestone":
            return 0
        if task.duration_days is not None:
            return max(0, round(task.duration_days))
        if task.start and task.finish:
            return self.calendar.count(task.start, task.finish)
        return 0

    def _topological_order(self) -> tuple[list[str], list[str]]:
        indegree = {task_id: 0 for task_id in self.tasks}
        successors: dict[str, list[str]] = {}
        for task_id, task in self.tasks.items():
            for dep in task.predecessors:
                if dep.predecessor in self.tasks:
                    indegree[task_id] += 1
                    successors.setdefault(dep.predecessor, []).append(task_id)
        ready = deque(sorted(t for t, n in indegree.items() if n == 0))
        order: list[str] = []
        while ready:
            task_id = ready.popleft()
            order.append(task_id)
            for succ in successors.get(task_id, []):
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    ready.append(succ)
        cyclic = sorted(t for t, n in indegree.items() if n > 0)
        return order, cyclic

    def run(self, extra: dict[str, int] | None = None) -> dict[str, tuple[int, int]]:
        """Early (start, finish) per task; ``extra`` adds working days to some tasks' durations."""
        extra = extra or {}
        result: dict[str, tuple[int, int]] = {}
        for task_id in self.order:
            task = self.tasks[task_id]
            length = self.duration(task) + extra.get(task_id, 0)
            driven: list[int] = []
            for dep in task.predecessors:
                if dep.predecessor not in result:
                    continue
                p_start, p_finish = result[dep.predecessor]
                lag = round(dep.lag_days)
                driven.append(
                    {
                        "FS": p_finish + lag,
                        "SS": p_start + lag,
                        "FF": p_finish + lag - length,
                        "SF": p_start + lag - length,
                    }[dep.type]
                )
            own = task.actual_start or task.start or task.finish
            start = max(driven) if driven else (self.offset(own) if own else 0)
            start = self._constrain(task, start, length)
            result[task_id] = (start, start + length)
        return result

    def _constrain(self, task: WorkItem, start: int, length: int) -> int:
        if task.actual_start is not None:
            return self.offset(task.actual_start)  # work that has started cannot be pushed
        code, when = _code(task.constraint_type), task.constraint_date
        if when is None:
            return start
        # A finish date F occupies working day offset(F), so the task's exclusive end is offset(F) + 1.
        finish_end = self.offset(when) + (1 if length else 0)
        if code in _MUST_START:
            return self.offset(when)
        if code in _MUST_FINISH:
            return finish_end - length
        if code in _START_NO_LATER:
            return min(start, self.offset(when))
        if code in _FINISH_NO_LATER:
            return min(start, finish_end - length)
        return start


def _label(task: WorkItem) -> str:
    return f"{task.key or task.source.external_id} {task.name!r}"


def _pick_critical(
    incomplete: Sequence[WorkItem], network: ForwardPass, early: dict[str, tuple[int, int]]
) -> WorkItem | None:
    """The earliest incomplete critical task (flag or zero float); else the first task of the chain
    that drives the project finish in the forward pass."""
    flagged = [
        t
        for t in incomplete
        if t.critical is True
        or (t.critical is None and t.total_slack_days is not None and t.total_slack_days <= 0)
    ]
    if flagged:
        flagged.sort(key=lambda t: (t.kind == "milestone", early.get(t.source.external_id, (0, 0))[0]))
        return flagged[0]
    if not early:
        return None
    open_ids = {t.source.external_id for t in incomplete}
    current = max(early, key=lambda task_id: (early[task_id][1], task_id))
    chain = [current]
    while True:
        task = network.tasks[current]
        start = early[current][0]
        drivers = [
            dep.predecessor
            for dep in task.predecessors
            if dep.predecessor in early
            and dep.type == "FS"
            and early[dep.predecessor][1] + round(dep.lag_days) == start
        ]
        if not drivers:
            break
        current = sorted(drivers)[0]
        chain.append(current)
    candidates = [network.tasks[c] for c in reversed(chain) if c in open_ids]
    candidates.sort(key=lambda t: t.kind == "milestone")
    return candidates[0] if candidates else None


def _completion_task(network: ForwardPass) -> str | None:
    """The project completion milestone: the latest-finishing milestone that nothing follows.

    DCMA measures the delay at the completion milestone, so a hard constraint on it (which would
    absorb any slip) fails the test even though other tasks move."""
    has_successor = {d.predecessor for t in network.tasks.values() for d in t.predecessors}
    ends = [
        t
        for t in network.tasks.values()
        if t.kind == "milestone" and t.finish and t.source.external_id not in has_successor
    ]
    if not ends:
        return None
    return max(ends, key=lambda t: (t.finish or date.min, t.source.external_id)).source.external_id


def critical_path_check(
    tasks: Sequence[WorkItem],
    incomplete: Sequence[WorkItem],
    calendar: WorkingCalendar,
    delay: int = 600,
) -> HealthCheck:
    def result(
        flagged: int, passed: bool | None, explanation: str, metric: float | None = None
    ) -> HealthCheck:
        return HealthCheck(
            check="critical_path_test",
            dcma_number=12,
            title="Critical path test",
            population=len(incomplete),
            flagged=flagged,
            metric=metric,
            threshold_text=f"a {delay}-working-day delay on a critical task moves the finish by as much",
            passed=passed,
            explanation=explanation,
        )

    network = ForwardPass(tasks, calendar)
    if network.cyclic:
        names = ", ".join(network.cyclic[:5])
        return result(len(network.cyclic), False, f"the logic has a loop through {names}")
    if not incomplete:
        return result(0, None, "not applicable: every task is complete")
    early = network.run()
    task = _pick_critical(incomplete, network, early)
    if task is None:
        return result(0, False, "no incomplete task is critical: there is no critical path to test")
    end = _completion_task(network)

    def finish_of(result: dict[str, tuple[int, int]]) -> int:
        return result[end][1] if end is not None else max(f for _, f in result.values())

    delayed = network.run({task.source.external_id: delay})
    moved = finish_of(delayed) - finish_of(early)
    passed = moved >= delay
    explanation = (
        f"adding {delay} working days to critical task {_label(task)} moved the project finish by "
        f"{moved} working days, so the check {'passes' if passed else 'fails'}"
    )
    if not passed:
        explanation += " (missing logic or a hard constraint breaks the critical path)"
    return result(0 if passed else 1, passed, explanation, float(moved))


def cpli_check(
    incomplete: Sequence[WorkItem],
    status_date: date,
    calendar: WorkingCalendar,
    baseline_finish: date | None,
    minimum: float = 0.95,
) -> HealthCheck:
    """CPLI = (critical path length + total float) / critical path length.

    The critical path length is the working days from the status date to the forecast finish; the
    total float is measured against the baseline finish when there is one (the DCMA reading: float to
    the contract completion date), else it is the smallest total float of the incomplete tasks."""

    def result(passed: bool | None, explanation: str, metric: float | None = None) -> HealthCheck:
        return HealthCheck(
            check="cpli",
            dcma_number=13,
            title="Critical path length index",
            population=len(incomplete),
            flagged=1 if passed is False else 0,
            metric=metric,
            threshold=minimum,
            threshold_text=f"≥ {minimum:g}",
            passed=passed,
            explanation=explanation,
        )

    finishes = [t.finish for t in incomplete if t.finish is not None]
    if not finishes:
        return result(None, "not applicable: no incomplete task has a finish date")
    finish = max(finishes)
    length = calendar.variance(status_date, finish)
    if length <= 0:
        return result(None, f"not applicable: the forecast finish {finish} is not after the status date")
    if baseline_finish is not None:
        total_float = calendar.variance(finish, baseline_finish)
        float_text = f"{total_float} working days of float to the baseline finish {baseline_finish}"
    else:
        slacks = [t.total_slack_days for t in incomplete if t.total_slack_days is not None]
        total_float = round(min(slacks)) if slacks else 0
        float_text = f"{total_float} working days of total float"
    value = (length + total_float) / length
    passed = value >= minimum
    explanation = (
        f"CPLI = ({length} working days to the forecast finish {finish} + {float_text}) / {length} = "
        f"{value:.2f}; the threshold is at least {minimum:g}, so the check {'passes' if passed else 'fails'}"
    )
    return result(passed, explanation, value)
