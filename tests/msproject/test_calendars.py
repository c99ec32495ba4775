"""A schedule's own calendars: holidays and worked weekend days read from both readers, carried on
the Project record, and used by reconcile to count a slip in the schedule's working days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from pmsync.config import load_config
from pmsync.model import Project
from pmsync.reconcile.measures import measure_project
from pmsync.store import Store
from pmsync.sync import sync_sources

from .conftest import connector, records
from .mspdi_builder import Cal, Plan, T, baseline

# Mon 2026-03-02 .. Fri 2026-03-13; Wed 2026-03-11 a holiday, Sat 2026-03-07 worked
HOLIDAY, WORKED_SATURDAY = (
    ("2026-03-11T00:00:00", "2026-03-11T23:59:00", False),
    (
        "2026-03-07T00:00:00",
        "2026-03-07T23:59:00",
        True,
    ),
)


@pytest.fixture(params=["auto", pytest.param("mpxj", marks=pytest.mark.java)])
def reader(request: pytest.FixtureRequest) -> str:
    if request.param == "mpxj":
        request.getfixturevalue("jvm")
    return str(request.param)


def _plan(**changes: object) -> Plan:
    tasks = [
        T(1, "Build", "2026-03-02T08:00:00", "2026-03-13T17:00:00", duration="PT72H0M0S",
          extra=baseline(0, "2026-03-02T08:00:00", "2026-03-10T17:00:00", duration="PT56H0M0S")),
    ]  # fmt: skip
    plan = Plan(tasks, calendars=[Cal(1, exceptions=[HOLIDAY, WORKED_SATURDAY])])
    for key, value in changes.items():
        setattr(plan, key, value)
    return plan


def test_the_project_calendar_with_its_exceptions_is_on_the_project_record(
    tmp_path: Path, reader: str
) -> None:
    path = tmp_path / "plan.xml"
    path.write_bytes(_plan().xml())
    [project] = [r for r in records(connector(tmp_path, path=str(path), reader=reader).extract({}))
                 if isinstance(r, Project)]  # fmt: skip
    assert project.nonworking_weekdays == (5, 6)
    assert project.holidays == (date(2026, 3, 11),)
    assert project.extra_working_days == (date(2026, 3, 7),)


def test_a_derived_calendar_inherits_its_base_and_overrides_it(tmp_path: Path) -> None:
    # the project calendar "Night shift" is based on Standard; it works Saturdays, Mondays off
    base = Cal(1, exceptions=[HOLIDAY])
    derived = Cal(2, "Night shift", working_days=(3, 4, 5, 6, 7), base_uid=1)
    plan = _plan(calendars=[base, derived])
    path = tmp_path / "plan.xml"
    path.write_bytes(plan.xml().replace(b"<CalendarUID>1</CalendarUID>", b"<CalendarUID>2</CalendarUID>", 1))
    [project] = [
        r for r in records(connector(tmp_path, path=str(path)).extract({})) if isinstance(r, Project)
    ]
    assert project.nonworking_weekdays == (0, 6)
    assert project.holidays == (date(2026, 3, 11),)


def test_finish_variance_counts_the_schedules_working_days(tmp_path: Path, store_url: str) -> None:
    # baseline finish Tue 03-10, current finish Fri 03-13: Wed 11 is the schedule's holiday, so the
    # slip is 2 working days (Thu, Fri), not the 3 a Monday-Friday calendar counts
    (tmp_path / "schedules").mkdir()
    (tmp_path / "schedules" / "plan.xml").write_bytes(_plan().xml())
    config_path = tmp_path / "pmsync.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "store": {"url": store_url},
                "projects": [{"key": "PLAN", "name": "Plan", "links": {"msproject": ["plan.xml"]}}],
                "sources": [{"name": "schedules", "type": "msproject", "path": "schedules/"}],
            }
        )
    )
    config = load_config(config_path)
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        measures = measure_project(store, config.projects[0], date(2026, 3, 12))
    assert measures.schedule.finish_variance_working_days == 2
    assert any("schedule calendar" in note and "1 holidays" in note for note in measures.notes)


def test_recurring_holidays_are_read_as_project_expands_them(tmp_path: Path) -> None:
    # Project 2007+ writes a yearly holiday as a rule in <Exceptions> (Type 2: yearly) and every
    # occurrence as a DayType 0 WeekDay; the occurrences are what is read
    rule = ("2026-12-25T00:00:00", "2030-12-25T23:59:00", False)
    occurrences = [(f"{y}-12-25T00:00:00", f"{y}-12-25T23:59:00", False) for y in (2026, 2027)]
    calendar = Cal(1, exceptions=[rule], expanded=occurrences)
    xml = _plan(calendars=[calendar]).xml().replace(b"<Type>1</Type>", b"<Type>2</Type>")
    path = tmp_path / "plan.xml"
    path.write_bytes(xml)
    items = records(connector(tmp_path, path=str(path)).extract({}))
    [project] = [r for r in items if isinstance(r, Project)]
    assert project.holidays == (date(2026, 12, 25),)  # 2027-12-25 is a Saturday: not a holiday


def test_a_recurrence_rule_without_its_days_is_not_read_as_one_long_holiday(tmp_path: Path) -> None:
    # a file holding only the rule (no expanded days): its TimePeriod spans years, it is not a range
    rule = ("2026-12-25T00:00:00", "2030-12-25T23:59:00", False)
    xml = _plan(calendars=[Cal(1, exceptions=[rule])]).xml().replace(b"<Type>1</Type>", b"<Type>2</Type>")
    path = tmp_path / "plan.xml"
    path.write_bytes(xml)
    items = records(connector(tmp_path, path=str(path)).extract({}))
    [project] = [r for r in items if isinstance(r, Project)]
    assert project.holidays == ()
