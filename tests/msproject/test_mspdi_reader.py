"""The native MSPDI reader against fixed expectations for the hand-made files in ``data/``.

The expected values are read off the files by hand (see ``data/write_fixtures.py`` for how each was
written); ``test_mpxj_crosscheck.py`` checks the same files against MPXJ independently.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pmsync.connectors.msproject import read_mspdi
from pmsync.connectors.msproject.schedule import iso_duration_minutes

from pmsync.model import Baseline, BaselineItem, Dependency, Project, WorkItem

from .conftest import DATA, connector, records


def _read(
    tmp_path: Path, name: str
) -> tuple[Project, dict[str, WorkItem], list[Baseline], list[BaselineItem]]:
    items = records(connector(tmp_path, path=str(DATA / name)).extract({}))
    projects = [r for r in items if isinstance(r, Project)]
    work = {r.source.external_id.split("#")[1]: r for r in items if isinstance(r, WorkItem)}
    baselines = [r for r in items if isinstance(r, Baseline)]
    baseline_items = [r for r in items if isinstance(r, BaselineItem)]
    assert len(projects) == 1
    return projects[0], work, baselines, baseline_items


def test_project_properties(tmp_path: Path) -> None:
    project, _, _, _ = _read(tmp_path, "case-management.xml")
    assert project.key == "case-management"
    assert project.name == "Case Management Replacement"
    assert project.manager == "Dana Whitfield"
    assert project.currency == "USD"
    assert (project.start, project.finish) == (date(2026, 3, 2), date(2026, 5, 29))
    assert project.status_date == date(2026, 4, 10)
    assert (project.minutes_per_day, project.minutes_per_week) == (480, 2400)


def test_wbs_tree_kinds_and_dates(tmp_path: Path) -> None:
    _, work, _, _ = _read(tmp_path, "case-management.xml")
    assert len(work) == 13
    parent = {uid: (item.parent.split("#")[1] if item.parent else None) for uid, item in work.items()}
    assert parent == {
        "0": None, "1": "0", "2": "1", "3": "1", "4": "1", "5": "0", "6": "5", "7": "5", "8": "5",
        "9": "5", "10": "5", "11": "0", "12": "11",
    }  # fmt: skip
    kinds = {uid: item.kind for uid, item in work.items()}
    assert [uid for uid, kind in kinds.items() if kind == "summary"] == ["0", "1", "5", "11"]
    assert [uid for uid, kind in kinds.items() if kind == "milestone"] == ["4", "10"]
    assert work["6"].wbs == "2.1" and work["6"].outline_level == 2
    assert (work["6"].start, work["6"].finish) == (date(2026, 3, 16), date(2026, 4, 24))
    assert (work["4"].start, work["4"].finish) == (date(2026, 3, 13), date(2026, 3, 13))
    assert work["6"].duration_days == 30.0


def test_progress_cost_work_and_earned_value(tmp_path: Path) -> None:
    _, work, _, _ = _read(tmp_path, "case-management.xml")
    task = work["6"]
    assert (task.percent_complete, task.physical_percent_complete) == (60.0, 55.0)
    assert (task.cost, task.actual_cost) == (Decimal("24000.00"), Decimal("9000.00"))  # stored in cents
    assert (task.effort_estimate_hours, task.effort_actual_hours, task.effort_remaining_hours) == (
        240,
        90,
        150,
    )
    assert (task.bcws, task.bcwp, task.acwp) == (Decimal("16000.00"), Decimal("14400.00"), Decimal("9000.00"))
    assert task.actual_start == date(2026, 3, 16) and task.actual_finish is None
    status = {uid: item.status_category for uid, item in work.items()}
    assert [uid for uid, s in status.items() if s == "done"] == ["1", "2", "3", "4"]
    assert [uid for uid, s in status.items() if s == "in_progress"] == ["0", "5", "6", "7", "8"]


def test_links_lags_constraints_slack(tmp_path: Path) -> None:
    _, work, _, _ = _read(tmp_path, "case-management.xml")
    ref = "case-management.xml#"
    assert work["6"].predecessors == (Dependency(predecessor=ref + "4", type="FS", lag_days=0.0),)
    # LinkLag is tenths of minutes: 24000 = 5 working days
    assert work["7"].predecessors == (Dependency(predecessor=ref + "6", type="SS", lag_days=5.0),)
    # a negative lag is a lead
    assert work["8"].predecessors == (Dependency(predecessor=ref + "7", type="FF", lag_days=-2.0),)
    # LagFormat 8: two elapsed days
    assert work["9"].predecessors == (Dependency(predecessor=ref + "7", type="FS", lag_days=2.0),)
    # LagFormat 19: 50 % of the predecessor's 20-day duration
    assert work["12"].predecessors == (
        Dependency(predecessor=ref + "10", type="FS", lag_days=0.0),
        Dependency(predecessor=ref + "8", type="FS", lag_days=10.0),
    )
    assert (work["6"].constraint_type, work["6"].constraint_date) == ("SNET", date(2026, 3, 16))
    assert (work["8"].constraint_type, work["8"].constraint_date) == ("MSO", date(2026, 4, 2))
    assert (work["10"].constraint_type, work["10"].constraint_date) == ("FNLT", date(2026, 5, 20))
    assert work["2"].constraint_type == "ASAP"
    assert (work["10"].deadline, work["10"].due) == (date(2026, 5, 15), date(2026, 5, 15))
    assert (work["8"].total_slack_days, work["8"].critical) == (2.0, False)
    assert (work["7"].total_slack_days, work["7"].critical) == (0.0, True)


def test_elapsed_duration_is_calendar_days(tmp_path: Path) -> None:
    _, work, _, items = _read(tmp_path, "case-management.xml")
    assert work["9"].duration_days == 14.0  # 14 edays = PT336H0M0S with DurationFormat 8
    [baseline] = [i for i in items if i.item.endswith("#9")]
    assert baseline.duration_days == 14.0


def test_custom_fields_by_alias_and_links(tmp_path: Path) -> None:
    _, work, _, _ = _read(tmp_path, "case-management.xml")
    assert work["6"].links == {"jira": "CMR-10", "finance": "P-2041.02"}
    assert work["6"].custom == {
        "Jira Key": "CMR-10",
        "Finance Code": "P-2041.02",
        "Contract Value": 1500.0,  # Cost1, in cents in the file
        "Gate Review": "2026-04-01",  # Date1
        "Text3": "Vendor: Acme",  # no alias: the field name
    }
    assert work["2"].custom["Story Points"] == 5.0
    assert work["3"].custom["Reportable"] is True
    assert work["1"].links == {"finance": "P-2041.01"}
    assert work["11"].links == {}


def test_resources_and_assignee(tmp_path: Path) -> None:
    _, work, _, _ = _read(tmp_path, "case-management.xml")
    assert work["3"].resources == ("Ana Souza", "Chloé Martin")
    assert work["3"].assignee == "Ana Souza"  # the most work (24 h against 16 h)
    assert work["6"].resources == ("Ben Okafor",)
    assert work["9"].resources == () and work["9"].assignee is None


def test_baselines_zero_and_one(tmp_path: Path) -> None:
    _, _, baselines, items = _read(tmp_path, "case-management.xml")
    assert [(b.number, b.name) for b in baselines] == [
        (0, "Baseline (earned value baseline)"),
        (1, "Baseline 1"),
    ]
    assert all(b.captured_at is None for b in baselines)  # MSPDI does not record when
    assert len(items) == 16
    summary = {i.baseline_number: i for i in items if i.item.endswith("#0")}
    assert (summary[0].start, summary[0].finish) == (date(2026, 3, 2), date(2026, 5, 22))
    assert (summary[0].cost, summary[0].work_hours, summary[0].duration_days) == (
        Decimal("64000.00"),
        640,
        60,
    )
    assert (summary[1].finish, summary[1].cost) == (date(2026, 5, 15), Decimal("60000.00"))


def test_a_file_without_baselines_yields_no_baseline_records(tmp_path: Path) -> None:
    project, work, baselines, items = _read(tmp_path, "printer-refresh.xml")
    assert baselines == [] and items == []
    assert project.name == "Printer fleet refresh"  # no Title: the project summary task's name
    assert project.currency == "EUR"
    assert [w.name for w in work.values()][1:] == [
        "Survey sites",
        "Order printers",
        "Install printers",
        "Fleet live",
    ]


def test_eleven_baselines(tmp_path: Path) -> None:
    _, _, baselines, items = _read(tmp_path, "network-core.xml")
    assert [b.number for b in baselines] == list(range(11))
    assert baselines[2].name == "Baseline 2 (earned value baseline)"
    assert len(items) == 22
    costs = sorted((i.baseline_number, i.cost) for i in items if i.item.endswith("#1"))
    assert costs[0] == (0, Decimal("9000.00")) and costs[10] == (10, Decimal("8000.00"))


def test_null_rows_unicode_manual_and_escaped_names(tmp_path: Path) -> None:
    _, work, _, _ = _read(tmp_path, "edge-cases.xml")
    assert sorted(work, key=int) == ["0", "1", "2", "4", "5", "7", "8"]  # blank rows 3 and 6 dropped
    assert work["0"].name == "多言語 rollout — ünïcödé ✓"
    assert work["2"].name == "Übersetzung der Oberfläche 🌍"
    assert work["4"].name == "مراجعة المحتوى"
    assert work["4"].parent == "edge-cases.xml#1"  # the blank row above it does not break the outline
    assert work["4"].custom == {"manually_scheduled": True}
    assert work["8"].name == '<Sign-off> "final"'
    assert work["5"].duration_days == 10.0


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("PT8H0M0S", 480), ("PT7H30M0S", 450), ("PT0H0M0S", 0), ("-PT8H0M0S", -480),
     ("PT1.5H", 90), ("PT0H0M30S", 0.5),
     # days, weeks and months are the project's: 7.5-hour days, 37.5-hour weeks, 21-day months
     ("P2DT1H", 2 * 450 + 60), ("P1D", 450), ("P1W", 2250), ("P1M", 21 * 450)],
)  # fmt: skip
def test_iso_durations(text: str, minutes: float) -> None:
    assert (
        iso_duration_minutes(text, minutes_per_day=450, minutes_per_week=2250, days_per_month=21) == minutes
    )


def test_a_day_is_the_projects_working_day_not_24_hours() -> None:
    assert iso_duration_minutes("P1D") == 480  # Project's default 8-hour day
    assert iso_duration_minutes("P1D", minutes_per_day=420) == 420


@pytest.mark.parametrize("text", ["", "P", "PT", "8 hours", "PTXHYM"])
def test_bad_iso_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        iso_duration_minutes(text)


def test_calendar_minutes_come_from_working_times() -> None:
    schedule, digest = read_mspdi(DATA / "case-management.xml")
    calendar = schedule.calendars[1]
    assert calendar.minutes_by_day == {1: 0, 2: 480, 3: 480, 4: 480, 5: 480, 6: 480, 7: 0}
    assert schedule.project_calendar_minutes() == (480, 2400)
    assert len(digest) == 64
