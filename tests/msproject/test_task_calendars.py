"""A task's own calendar (Task Information > Advanced > Calendar): read by both readers onto the
work item, and used by reconcile for that task's working days, as Project schedules it.

The schedule: the project calendar is Standard (Monday-Friday, 8 hours) with a holiday on Wednesday
2026-03-11; the task calendar "Four tens" works Monday-Thursday, 10 hours a day, with its own holiday
on Monday 2026-03-16 (and not the project's Wednesday). 2026-03-02 is a Monday.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from pmsync.config import load_config
from pmsync.model import ItemCalendar, WorkItem
from pmsync.reconcile.measures import measure_project
from pmsync.store import Store
from pmsync.sync import sync_sources

from .conftest import connector, records
from .mspdi_builder import Cal, Plan, T, baseline, link

_TEN_HOURS = (
    "<WorkingTimes><WorkingTime><FromTime>07:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
    "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>18:00:00</ToTime></WorkingTime></WorkingTimes>"
)
_PROJECT_HOLIDAY = ("2026-03-11T00:00:00", "2026-03-11T23:59:00", False)
_TASK_HOLIDAY = ("2026-03-16T00:00:00", "2026-03-16T23:59:00", False)
FOUR_TENS = ItemCalendar(
    name="Four tens",
    nonworking_weekdays=(4, 5, 6),
    holidays=(date(2026, 3, 16),),
    minutes_per_day=600,
)


@pytest.fixture(params=["auto", pytest.param("mpxj", marks=pytest.mark.java)])
def reader(request: pytest.FixtureRequest) -> str:
    if request.param == "mpxj":
        request.getfixturevalue("jvm")
    return str(request.param)


def _plan() -> Plan:
    # Mon 03-02 .. Thu 05-14 is 11 weeks: 53 working days in the project calendar (55 weekdays less
    # Wed 03-11), 43 in Four tens (44 Monday-Thursdays less Mon 03-16); 43 x 10 h = 430 h, which
    # Project shows as 53.75 "days" of 8 hours
    tasks = [
        T(1, "Standard work", "2026-03-02T08:00:00", "2026-05-14T17:00:00", duration="PT424H0M0S",
          extra=baseline(0, "2026-03-02T08:00:00", "2026-05-14T17:00:00", duration="PT424H0M0S")),
        T(2, "Shift work", "2026-03-02T07:00:00", "2026-05-14T18:00:00", duration="PT430H0M0S",
          calendar_uid=2, slack=12000,  # 1,200 minutes: 2 ten-hour days of its calendar
          extra=baseline(0, "2026-03-02T07:00:00", "2026-05-14T18:00:00", duration="PT430H0M0S")
          + link(1, kind=3)),
        # baseline Thu 03-12, now Thu 03-19: 3 working days late in Four tens (Tue 17, Wed 18,
        # Thu 19), 5 in the project calendar (Fri 13, Mon 16 .. Thu 19)
        T(3, "Slab poured", "2026-03-19T18:00:00", "2026-03-19T18:00:00", duration="PT0H0M0S",
          milestone=True, calendar_uid=2,
          extra=baseline(0, "2026-03-12T18:00:00", "2026-03-12T18:00:00") + link(2, kind=0)),
    ]  # fmt: skip
    calendars = [
        Cal(1, exceptions=[_PROJECT_HOLIDAY]),
        Cal(2, "Four tens", working_days=(2, 3, 4, 5), exceptions=[_TASK_HOLIDAY], times=_TEN_HOURS),
    ]
    return Plan(tasks, calendars=calendars)


def _items(tmp_path: Path, reader: str) -> dict[str, WorkItem]:
    path = tmp_path / "plan.xml"
    path.write_bytes(_plan().xml())
    found = records(connector(tmp_path, path=str(path), reader=reader).extract({}))
    return {r.name: r for r in found if isinstance(r, WorkItem)}


def test_a_task_calendar_with_its_exceptions_is_on_the_work_item(tmp_path: Path, reader: str) -> None:
    items = _items(tmp_path, reader)
    assert items["Shift work"].calendar == FOUR_TENS
    assert items["Slab poured"].calendar == FOUR_TENS
    assert items["Standard work"].calendar is None  # the project calendar: nothing to carry


def test_slack_from_the_file_is_in_days_of_the_tasks_own_calendar(tmp_path: Path, reader: str) -> None:
    # 1,200 minutes of slack on a ten-hour calendar is 2 of its working days, not 2.5 eight-hour days
    assert _items(tmp_path, reader)["Shift work"].total_slack_days == 2.0


def test_a_work_item_without_its_own_calendar_stores_as_before() -> None:
    # the field is left out of the payload when unset, so upgrading does not make every stored
    # work item of every source look changed
    from pmsync.model import SourceRef

    item = WorkItem(source=SourceRef(system="jira", instance="x", external_id="1"), name="n")
    assert "calendar" not in item.model_dump(mode="json")
    assert WorkItem.model_validate(item.model_dump(mode="json")) == item


def test_reconcile_counts_a_tasks_slip_and_duration_in_its_own_calendar(
    tmp_path: Path, store_url: str, reader: str
) -> None:
    (tmp_path / "schedules").mkdir()
    (tmp_path / "schedules" / "plan.xml").write_bytes(_plan().xml())
    config_path = tmp_path / "pmsync.yaml"
    source = {"name": "schedules", "type": "msproject", "path": "schedules/", "reader": reader}
    config_path.write_text(
        yaml.safe_dump(
            {
                "store": {"url": store_url},
                "projects": [{"key": "PLAN", "name": "Plan", "links": {"msproject": ["plan.xml"]}}],
                "sources": [source],
            }
        )
    )
    config = load_config(config_path)
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        measures = measure_project(store, config.projects[0], date(2026, 3, 10))
    assert (
        "2 items are scheduled on their own calendar, so their slips, forecasts and DCMA durations "
        "are counted in it: 'Four tens' (2); resource calendars are not used" in measures.notes
    )
    [milestone] = measures.schedule.milestones
    assert milestone.variance_working_days == 3
    assert "3 working days after the baseline" in milestone.explanation
    [health] = measures.health
    [high_duration] = [c for c in health.checks if c.check == "high_duration"]
    # only the project-calendar task exceeds 44 working days; the shift task's 43 days of its own
    # calendar do not (its 53.75 eight-hour "days" would have)
    assert [f.name for f in high_duration.findings] == ["Standard work"]
    assert high_duration.findings[0].detail == "baseline duration 53 working days"
