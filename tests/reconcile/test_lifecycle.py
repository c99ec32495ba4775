"""Lifecycle state and the one % complete per project, each with its basis."""

from datetime import date
from decimal import Decimal

from pmsync.config import ProjectConfig
from pmsync.model import SourceRef, WorkItem
from pmsync.reconcile.evm import compute_evm
from pmsync.reconcile.measures import lifecycle_of, percent_complete
from pmsync.reconcile.results import CostMeasures, ScheduleMeasures


def item(n: int, category: str, percent: float | None = None) -> WorkItem:
    return WorkItem(
        source=SourceRef(system="msproject", instance="plan", external_id=str(n)),
        project="SOC",
        name=f"task {n}",
        status_category=category,  # type: ignore[arg-type]
        percent_complete=percent,
    )


DONE = ScheduleMeasures(actual_finish=date(2026, 8, 17), percent_complete=100.0)


def test_every_item_done_with_an_actual_finish_is_closing_never_closed_by_itself():
    state, basis = lifecycle_of(ProjectConfig(key="SOC", name="SOC"), [item(1, "done"), item(2, "done")],
                                DONE, CostMeasures())  # fmt: skip
    assert state == "closing"
    assert basis == (
        "derived: all 2 detail items done, actual finish 2026-08-17 "
        "(set lifecycle: closed in pmsync.yaml after financial close)"
    )


def test_pmsync_yaml_decides_closed_on_hold_and_cancelled():
    config = ProjectConfig(key="SOC", name="SOC", lifecycle="closed")
    assert lifecycle_of(config, [item(1, "done")], DONE, CostMeasures()) == ("closed", "set in pmsync.yaml")


def test_planning_and_executing_are_derived_from_the_work():
    config = ProjectConfig(key="NEW", name="New")
    idle = [item(1, "not_started"), item(2, "not_started")]
    assert lifecycle_of(config, idle, ScheduleMeasures(), CostMeasures())[0] == "planning"
    spent = CostMeasures(actual_to_date=Decimal(10))
    assert lifecycle_of(config, idle, ScheduleMeasures(), spent)[0] == "executing"
    assert (
        lifecycle_of(config, [item(1, "done"), item(2, "in_progress")], ScheduleMeasures(), CostMeasures())[0]
        == "executing"
    )


def test_one_percent_complete_with_its_basis():
    """GRANTS: 43.6 % of items done by count, EV / BAC = 72.2 %: the EV figure is the % complete (work
    weighted by its budget); the count stays labelled "items done (by count)". Here EV 722 / BAC 1,000."""
    evm = compute_evm(
        status_date=date(2026, 10, 30), bac=Decimal(1000), pv=Decimal(800), ev=Decimal(722), ac=Decimal(700)
    ).model_copy(update={"weighting": "working_days"})
    by_count = ScheduleMeasures(percent_complete=43.6)
    assert percent_complete(by_count, evm) == (
        72.2,
        "earned value ÷ budget at completion (work weighted by baseline working days)",
    )
    assert percent_complete(by_count, None) == (43.6, "detail items done ÷ detail items (by count)")
    assert percent_complete(ScheduleMeasures(), None) == (None, "no work items")
