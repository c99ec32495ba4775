"""DCMA 14-point checks find exactly the defects planted in a test schedule, and nothing in a clean one.

The clean schedule (status date Fri 2026-11-13, baseline = current dates, project baseline finish
Fri 2026-12-04):

    S  start milestone 10-01 (done) ─► T0 10-01..10-30 (done) ─► T1 11-02..11-06 (done)
    T1 ─► T2 11-09..11-20 (40 %, critical) ─► T3 11-23..12-04 (critical) ─► F finish 12-04
                                           └► T4 11-23..11-27 (5 d float) ─┘

The defective schedule is the clean one plus eleven tasks, each carrying one planted defect (D1..D11).
"""

from datetime import date

import pytest

from pmsync.model import BaselineItem, Dependency, SourceRef, WorkItem
from pmsync.reconcile.health import HealthThresholds, assess_schedule

STATUS = date(2026, 11, 13)
FINISH = date(2026, 12, 4)


def dep(pred: str, type_: str = "FS", lag: float = 0) -> Dependency:
    return Dependency(predecessor=pred, type=type_, lag_days=lag)  # type: ignore[arg-type]


def task(uid: str, start: str, finish: str, *preds: Dependency, **fields: object) -> WorkItem:
    defaults: dict[str, object] = {
        "resources": ("Ann",),
        "critical": False,
        "total_slack_days": 0.0,
        "percent_complete": 0.0,
    }
    defaults.update(fields)
    if defaults.get("kind") == "milestone":
        defaults["resources"] = ()
    if defaults.get("percent_complete") == 100:
        defaults.setdefault("status_category", "done")
        defaults.setdefault("actual_start", date.fromisoformat(start))
        defaults.setdefault("actual_finish", date.fromisoformat(finish))
    return WorkItem(
        source=SourceRef(system="msproject", instance="sched", external_id=uid),
        project="P",
        key=uid,
        name=f"task {uid}",
        start=date.fromisoformat(start),
        finish=date.fromisoformat(finish),
        predecessors=preds,
        **defaults,  # type: ignore[arg-type]
    )


def clean_schedule() -> list[WorkItem]:
    return [
        task("S", "2026-10-01", "2026-10-01", kind="milestone", percent_complete=100),
        task("T0", "2026-10-01", "2026-10-30", dep("S"), percent_complete=100),
        task("T1", "2026-11-02", "2026-11-06", dep("T0"), percent_complete=100),
        task(
            "T2",
            "2026-11-09",
            "2026-11-20",
            dep("T1"),
            percent_complete=40,
            actual_start=date(2026, 11, 9),
            critical=True,
        ),
        task("T3", "2026-11-23", "2026-12-04", dep("T2"), critical=True),
        task("T4", "2026-11-23", "2026-11-27", dep("T2"), total_slack_days=5),
        task("F", "2026-12-04", "2026-12-04", dep("T3"), dep("T4"), kind="milestone", critical=True),
    ]


def planted_defects() -> list[WorkItem]:
    return [
        task("D1", "2026-11-16", "2026-11-20"),  # missing logic: no predecessor, no successor
        task("D2", "2026-11-26", "2026-12-02", dep("T2", lag=3)),  # a 3-day lag
        task("D3", "2026-11-16", "2026-11-20", dep("T2", "SS")),  # start-to-start
        task(
            "D4",
            "2026-11-23",
            "2026-12-01",
            dep("T2"),
            constraint_type="Must Finish On",
            constraint_date=date(2026, 12, 1),
        ),  # hard constraint
        task("D5", "2026-11-23", "2026-11-24", dep("T2"), total_slack_days=60),  # high float
        task("D6", "2026-11-23", "2026-11-25", dep("T2"), total_slack_days=-3),  # negative float
        # high duration: 10-05..12-04 is 45 working days (Oct 5-30: 20, Nov: 21, Dec 1-4: 4)
        task("D7", "2026-10-05", "2026-12-04", dep("S"), percent_complete=48, actual_start=date(2026, 10, 5)),
        task("D8", "2026-11-18", "2026-11-24", dep("T2", lag=-2)),  # a 2-day lead
        task("D9", "2026-11-10", "2026-11-17", dep("T1")),  # not started, forecast start in the past
        task("D10", "2026-11-23", "2026-11-25", dep("T2"), resources=()),  # no resources
        task("D11", "2026-11-16", "2026-11-18", dep("T1")),  # baseline finish 11-12 missed
    ]


def defective_schedule() -> list[WorkItem]:
    items = clean_schedule() + planted_defects()
    finish = items[6]
    late_successors = tuple(dep(d.source.external_id) for d in items[7:] if d.key != "D1")
    items[6] = finish.model_copy(update={"predecessors": finish.predecessors + late_successors})
    return items


def baseline_of(items: list[WorkItem]) -> dict[str, BaselineItem]:
    base = {}
    for item in items:
        start, finish = item.start, item.finish
        if item.key == "D11":
            start, finish = date(2026, 11, 10), date(2026, 11, 12)
        base[item.source.external_id] = BaselineItem(
            source=SourceRef(system="msproject", instance="sched", external_id=f"bl0/{item.key}"),
            baseline_number=0,
            item=item.source.external_id,
            start=start,
            finish=finish,
        )
    return base


def assess(items: list[WorkItem], **kwargs: object):
    return assess_schedule(
        items,
        status_date=STATUS,
        schedule_name="msproject:sched",
        baseline=baseline_of(items),
        baseline_finish=FINISH,
        **kwargs,  # type: ignore[arg-type]
    )


def test_clean_schedule_passes_every_check_with_no_findings():
    health = assess(clean_schedule())
    assert [f for check in health.checks for f in check.findings] == []
    assert {c.dcma_number: c.passed for c in health.checks} == {n: True for n in range(1, 15)}
    assert (health.passed, health.failed, health.task_count) == (14, 0, 7)
    bei = next(c for c in health.checks if c.check == "bei")
    assert bei.metric == 1.0  # S, T0, T1 due by baseline and all three done
    assert "3 tasks completed / 3 tasks due" in bei.explanation


def test_planted_defects_are_found_and_nothing_else():
    health = assess(defective_schedule())
    found = {(f.check, f.key) for f in [f for check in health.checks for f in check.findings]}
    assert found == {
        ("missing_logic", "D1"),
        ("lags", "D2"),
        ("relationship_types", "D3"),
        ("hard_constraints", "D4"),
        ("high_float", "D5"),
        ("negative_float", "D6"),
        ("high_duration", "D7"),
        ("leads", "D8"),
        ("invalid_dates", "D9"),
        ("resources", "D10"),
        ("missed_tasks", "D11"),
    }
    by_number = {c.dcma_number: c for c in health.checks}
    # 15 incomplete tasks (T2-T4, F, D1-D11); 25 relationships into them; 4 tasks due by baseline.
    assert by_number[1].population == 15 and by_number[1].metric == pytest.approx(100 / 15)
    assert by_number[4].population == 25 and by_number[4].metric == pytest.approx(96.0)
    assert by_number[8].population == 14  # milestones have no duration
    failing = {n for n, c in by_number.items() if c.passed is False}
    # lags (1/25 = 4 % ≤ 5 %) and relationship types (96 % FS ≥ 90 %) stay within threshold; the
    # critical path still drives the finish and CPLI is 1.0; BEI = 3 done / 4 due = 0.75 fails.
    assert failing == {1, 2, 5, 6, 7, 8, 9, 10, 11, 14}
    assert by_number[14].metric == 0.75
    assert "the threshold is at least 0.95, so the check fails" in by_number[14].explanation
    assert by_number[2].explanation.startswith("1 of 25 relationships of incomplete tasks have a lead")


def test_thresholds_are_configurable():
    relaxed = HealthThresholds(high_float_days=90, missing_logic_percent=10)
    health = assess(defective_schedule(), thresholds=relaxed)
    found = {(f.check, f.key) for f in [f for check in health.checks for f in check.findings]}
    assert ("high_float", "D5") not in found
    assert next(c for c in health.checks if c.dcma_number == 1).passed is True


def test_hard_constraint_on_the_finish_breaks_the_critical_path_test():
    items = clean_schedule()
    items[6] = items[6].model_copy(update={"constraint_type": "MFO", "constraint_date": FINISH})
    health = assess(items)
    cpt = next(c for c in health.checks if c.check == "critical_path_test")
    assert cpt.passed is False
    assert "moved the project finish by 0 working days" in cpt.explanation
    assert "T2" in cpt.explanation


def test_cpli_fails_when_forecast_runs_past_the_baseline_finish():
    items = clean_schedule()
    # T3 and F slip 5 working days: CPLI = (20 + (−5)) / 20 = 0.75
    items[4] = items[4].model_copy(update={"finish": date(2026, 12, 11)})
    items[6] = items[6].model_copy(update={"start": date(2026, 12, 11), "finish": date(2026, 12, 11)})
    cpli = next(c for c in assess(items).checks if c.check == "cpli")
    assert cpli.metric == pytest.approx(0.75)
    assert cpli.passed is False


def test_logic_loop_fails_the_critical_path_test():
    items = clean_schedule()
    items[3] = items[3].model_copy(update={"predecessors": (dep("T1"), dep("T3"))})
    cpt = next(c for c in assess(items).checks if c.check == "critical_path_test")
    assert cpt.passed is False and "loop" in cpt.explanation


def test_critical_path_is_traced_from_logic_when_no_task_is_flagged():
    items = [i.model_copy(update={"critical": None, "total_slack_days": None}) for i in clean_schedule()]
    cpt = next(c for c in assess(items).checks if c.check == "critical_path_test")
    assert cpt.passed is True
    assert "critical task T2" in cpt.explanation


def test_cpli_without_a_baseline_finish_uses_total_float():
    items = [
        i.model_copy(update={"total_slack_days": -2.0}) if i.key == "T3" else i for i in clean_schedule()
    ]
    health = assess_schedule(items, status_date=STATUS, schedule_name="msproject:sched")
    cpli = next(c for c in health.checks if c.check == "cpli")
    # 15 working days from 11-13 to 12-04, float −2: (15 − 2) / 15 = 0.87
    assert cpli.metric == pytest.approx(13 / 15)
    assert cpli.passed is False
    # without baseline items, missed tasks and BEI have nothing to measure
    by_check = {c.check: c for c in health.checks}
    assert by_check["missed_tasks"].passed is None and by_check["bei"].passed is None
