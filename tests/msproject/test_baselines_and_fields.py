"""Only the baselines a file really holds; one typed model of custom fields for both readers;
durations in the project's own units."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pmsync.model import Baseline, BaselineItem, WorkItem

from .conftest import connector, records
from .mspdi_builder import Plan, T, baseline, custom

D1, D2 = "2026-03-02T08:00:00", "2026-03-06T17:00:00"


@pytest.fixture(params=["auto", pytest.param("mpxj", marks=pytest.mark.java)])
def reader(request: pytest.FixtureRequest) -> str:
    """Both readers must give the same records: pmsync's own, and MPXJ's through the bridge."""
    if request.param == "mpxj":
        request.getfixturevalue("jvm")
    return str(request.param)


def _read(tmp_path: Path, plan: Plan, **settings: object) -> list[object]:
    path = tmp_path / "plan.xml"
    path.write_bytes(plan.xml())
    return list(records(connector(tmp_path, path=str(path), **settings).extract({})))


def test_an_unsaved_baseline_read_as_zeros_without_dates_is_not_a_baseline(
    tmp_path: Path, reader: str
) -> None:
    # Baseline 0 saved (dates, cost); Baseline 3 as an .mpp answers for one never saved: all zeros
    saved = baseline(0, D1, D2, cost="150000", work="PT40H0M0S", duration="PT40H0M0S")
    tasks = [
        T(1, "Design", D1, D2, extra=saved + baseline(3, None, None)),
        T(2, "Build", D1, D2, extra=baseline(3, None, None)),
    ]
    items = _read(tmp_path, Plan(tasks), reader=reader)
    assert [b.number for b in items if isinstance(b, Baseline)] == [0]
    [item] = [b for b in items if isinstance(b, BaselineItem)]
    assert (item.baseline_number, item.cost, item.work_hours, item.duration_days) == (
        0, Decimal("1500.00"), 40.0, 5.0
    )  # fmt: skip


def test_a_baseline_saved_for_some_tasks_only_has_items_for_those(tmp_path: Path, reader: str) -> None:
    # Baseline 1 saved for Design only (Project: Set Baseline > Selected tasks); a task added later has none
    tasks = [
        T(1, "Design", D1, D2, extra=baseline(1, D1, D2)),  # dates, no cost: 0 in Project, 0 here
        T(2, "Build", D1, D2, extra=baseline(1, None, None)),
    ]
    items = _read(tmp_path, Plan(tasks), reader=reader)
    [base] = [b for b in items if isinstance(b, Baseline)]
    assert base.number == 1
    [item] = [b for b in items if isinstance(b, BaselineItem)]
    assert item.item.endswith("#1") and item.cost == Decimal("0.00") and item.finish == date(2026, 3, 6)


ENTERPRISE_COST1, ENTERPRISE_DURATION1, ENTERPRISE_TEXT1 = 188744279, 188744319, 188744479
COST1, DURATION1, FLAG1, NUMBER1, OUTLINE_CODE1, TEXT1 = (
    188743786,
    188743783,
    188743752,
    188743767,
    188744096,
    188743731,
)


def test_custom_fields_are_typed_enterprise_fields_included(tmp_path: Path, reader: str) -> None:
    fields = [
        (ENTERPRISE_COST1, "Enterprise Cost1", "Capital cost"),
        (DURATION1, "Duration1", "Review time"),
        (OUTLINE_CODE1, "Outline Code1", "Program"),
        (TEXT1, "Text1", "Jira Key"),
        (FLAG1, "Flag1", None),
        (NUMBER1, "Number1", None),
    ]
    extra = (
        custom(ENTERPRISE_COST1, "900")  # hundredths, like every MSPDI currency: 9.00
        + custom(DURATION1, "PT12H0M0S", 7)  # 1.5 working days of 8 hours
        + custom(OUTLINE_CODE1, "ERP.FIN")
        + custom(TEXT1, "ERP-12")
        + custom(FLAG1, "1")
        + custom(NUMBER1, "0")  # an unnamed field at its default: not invented into the record
        + custom(ENTERPRISE_DURATION1, "PT48H0M0S", 8)  # no definition, elapsed: 2 calendar days
        + custom(ENTERPRISE_TEXT1, "Capital")  # no definition in the file: named by Project's field id
    )
    items = _read(tmp_path, Plan([T(1, "Design", D1, D2, extra=extra)], fields=fields), reader=reader)
    [task] = [w for w in items if isinstance(w, WorkItem)]
    assert task.custom == {
        "Capital cost": 9.0,
        "Review time": 1.5,
        "Program": "ERP.FIN",
        "Jira Key": "ERP-12",
        "Flag1": True,
        "Enterprise Duration1": 2.0,
        "Enterprise Text1": "Capital",
    }
    assert task.links == {"jira": "ERP-12"}


def test_a_named_field_keeps_its_zero(tmp_path: Path, reader: str) -> None:
    extra = custom(COST1, "0") + custom(NUMBER1, "0")
    plan = Plan(
        [T(1, "Design", D1, D2, extra=extra)],
        fields=[(COST1, "Cost1", "Contingency"), (NUMBER1, "Number1", None)],
    )
    [task] = [w for w in _read(tmp_path, plan) if isinstance(w, WorkItem)]
    assert task.custom == {"Contingency": 0.0}


@pytest.mark.parametrize(("minutes_per_day", "expected"), [(480, 5.0), (450, 5.0), (420, 5.0)])
def test_durations_written_in_days_use_the_projects_hours_per_day(
    tmp_path: Path, minutes_per_day: int, expected: float
) -> None:
    # tools other than Project write P5D; a day is the project's working day, not 24 hours
    plan = Plan([T(1, "Design", D1, D2, duration="P5D")], minutes_per_day=minutes_per_day)
    [task] = [w for w in _read(tmp_path, plan) if isinstance(w, WorkItem)]
    assert task.duration_days == expected


def test_work_written_in_days_is_hours_of_the_projects_day(tmp_path: Path) -> None:
    plan = Plan([T(1, "Design", D1, D2, extra="<Work>P2D</Work>")], minutes_per_day=450)
    [task] = [w for w in _read(tmp_path, plan) if isinstance(w, WorkItem)]
    assert task.effort_estimate_hours == 15.0
