"""Total slack and critical flags computed from the logic when a file does not carry them (four link
types, working, elapsed and percentage lags, a holiday), checked against MPXJ's MicrosoftScheduler;
when the file carries them, the file's values are used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.msproject import read_mspdi
from pmsync.connectors.msproject.network import compute_slack

from pmsync.model import WorkItem

from .conftest import connector, records
from .mspdi_builder import Cal, Plan, T, link


def _d(day: int) -> str:
    return f"2026-03-{day:02d}T08:00:00"


def _f(day: int) -> str:
    return f"2026-03-{day:02d}T17:00:00"


FS, SS, FF, SF = 1, 3, 0, 2
DAY = 4800  # one 8-hour working day of lag, in MSPDI's tenths of minutes


def _network(slack: bool = False) -> Plan:
    """Mon 2 March 2026 on; Thursday 12 March is a holiday. No TotalSlack unless ``slack``."""
    given = {"slack": 0, "critical": True} if slack else {}
    tasks = [
        T(1, "A", _d(2), _f(6), "PT40H0M0S", **given),
        T(2, "B", _d(9), _f(11), "PT24H0M0S", extra=link(1)),
        T(3, "C", _d(4), _f(5), "PT16H0M0S", extra=link(1, SS, 2 * DAY)),
        T(4, "D", _d(9), _f(13), "PT40H0M0S", extra=link(2, FF)),
        T(5, "E", _d(9), _f(10), "PT16H0M0S", extra=link(3, FS, 28800, lag_format=8)),  # 2 elapsed days
        T(6, "F", _d(9), _f(10), "PT16H0M0S", extra=link(1, FS, 50, lag_format=19)),  # 50 % of A
        T(7, "G", _d(16), _f(16), "PT8H0M0S", extra=link(4) + link(5) + link(6)),
        T(8, "H", _d(2), _f(3), "PT16H0M0S"),
        T(9, "I", _d(4), _f(4), "PT8H0M0S", extra=link(8, SF, 3 * DAY)),
    ]
    return Plan(tasks, calendars=[Cal(1, exceptions=[("2026-03-12T00:00:00", "2026-03-12T23:59:00", False)])])


#: total slack in working days, by hand. Working days from Mon 2 March are numbered 0, 1, ...; the
#: holiday (12th) has no number. F waits for half of A (day 7.5 = Wed 11, 13:00) and ends at 9.5, so
#: G runs 9.5-10.5 (Mon 16, 13:00 to Tue 17, 12:00): the project finish. B (5-8) can end at 9.5: 1.5.
#: E follows C (2-4) by 2 elapsed days: Thu 5 17:00 + 48 h = Sat, so Mon 9 (5) to 7; slack 2.5.
#: I must finish 3 days after H starts (0): 2-3; H's late finish is I's late finish 10.5 - 3 + 2.
EXPECTED = {"A": 0.0, "B": 1.5, "C": 1.5, "D": 1.5, "E": 2.5, "F": 0.0, "G": 0.0, "H": 7.5, "I": 7.5}


def test_slack_is_computed_when_the_file_has_none(tmp_path: Path) -> None:
    path = tmp_path / "plan.xml"
    path.write_bytes(_network().xml())
    work = {
        w.name: w for w in records(connector(tmp_path, path=str(path)).extract({})) if isinstance(w, WorkItem)
    }
    assert {name: work[name].total_slack_days for name in EXPECTED} == EXPECTED
    assert {name for name in EXPECTED if work[name].critical} == {"A", "F", "G"}


def test_the_files_slack_wins_when_it_has_one(tmp_path: Path) -> None:
    path = tmp_path / "plan.xml"
    path.write_bytes(_network(slack=True).xml())
    work = {
        w.name: w for w in records(connector(tmp_path, path=str(path)).extract({})) if isinstance(w, WorkItem)
    }
    assert (work["A"].total_slack_days, work["A"].critical) == (0.0, True)  # as written
    assert work["B"].total_slack_days == 1.5  # not written: computed


def test_a_loop_in_the_logic_leaves_slack_empty_rather_than_wrong(tmp_path: Path) -> None:
    tasks = [T(1, "A", _d(2), _f(2), extra=link(2)), T(2, "B", _d(3), _f(3), extra=link(1))]
    path = tmp_path / "loop.xml"
    path.write_bytes(Plan(tasks).xml())
    schedule, _ = read_mspdi(path)
    assert compute_slack(schedule) is None
    work = [w for w in records(connector(tmp_path, path=str(path)).extract({})) if isinstance(w, WorkItem)]
    assert [w.total_slack_days for w in work] == [None, None]


def _with_task_calendar() -> Plan:
    """B is worked Monday to Saturday (its own calendar): it ends Wednesday 11, E's successor G
    no longer waits for it."""
    plan = _network()
    plan.calendars.append(Cal(2, "Six-day week", working_days=(2, 3, 4, 5, 6, 7)))
    plan.tasks[1].calendar_uid = 2
    plan.tasks[1].start, plan.tasks[1].finish = _d(7), _f(10)  # Sat 7 .. Tue 10 on its calendar
    return plan


def test_a_task_calendar_counts_the_tasks_duration(tmp_path: Path) -> None:
    path = tmp_path / "plan.xml"
    path.write_bytes(_with_task_calendar().xml())
    items = records(connector(tmp_path, path=str(path)).extract({}))
    work = {w.name: w for w in items if isinstance(w, WorkItem)}
    # B: 3 days from Sat 7 on its six-day week, ends Tue 10 (not Wed 11); its late finish is still
    # Mon 16 13:00, which on B's calendar (Thursday 12 worked) is 4.5 of its days later. D, bound to
    # B's finish, gains the day: 2.5
    assert (work["B"].total_slack_days, work["D"].total_slack_days) == (4.5, 2.5)


@pytest.mark.java
@pytest.mark.parametrize("plan", [_network, _with_task_calendar], ids=["project-calendar", "task-calendar"])
def test_computed_slack_agrees_with_mpxjs_scheduler(tmp_path: Path, jvm: None, plan: Any) -> None:
    import jpype

    path = tmp_path / "plan.xml"
    path.write_bytes(plan().xml())
    project = jpype.JClass("org.mpxj.reader.UniversalProjectReader")().read(str(path))
    start = jpype.JClass("java.time.LocalDateTime").of(2026, 3, 2, 8, 0)
    jpype.JClass("org.mpxj.cpm.MicrosoftScheduler")().schedule(project, start)
    days = jpype.JClass("org.mpxj.TimeUnit").DAYS
    theirs = {
        str(task.getName()): float(
            task.getTotalSlack().convertUnits(days, project.getProjectProperties()).getDuration()
        )
        for task in project.getTasks()
        if task.getUniqueID() is not None and int(task.getUniqueID()) > 0
    }
    schedule, _ = read_mspdi(path)
    ours = compute_slack(schedule)
    assert ours is not None
    names = {t.uid: t.name for t in schedule.tasks}
    assert {names[uid]: value for uid, value in ours.total_slack_days.items() if uid > 0} == theirs


def test_the_dcma_float_checks_run_on_a_file_without_slack(tmp_path: Path) -> None:
    from datetime import date

    from pmsync.reconcile.health import assess_schedule

    plan = _network()
    # G must be done by Friday 13 March 17:00: the logic ends it Tuesday noon, 1.5 days late
    plan.tasks[6].extra += "<Deadline>2026-03-13T17:00:00</Deadline>"
    path = tmp_path / "plan.xml"
    path.write_bytes(plan.xml())
    items = [w for w in records(connector(tmp_path, path=str(path)).extract({})) if isinstance(w, WorkItem)]
    slack = {w.name: w.total_slack_days for w in items}
    assert (slack["G"], slack["A"], slack["F"], slack["B"]) == (-1.5, -1.5, -1.5, 0.0)
    health = assess_schedule(items, status_date=date(2026, 3, 2), schedule_name="plan")
    checks = {c.check: c for c in health.checks}
    assert checks["negative_float"].flagged == 3  # A, F, G: a float check, with figures to show
