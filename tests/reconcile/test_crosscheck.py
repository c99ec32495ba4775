"""Cross-system reconciliation reports exactly what does not agree, with the figures."""

from datetime import date
from decimal import Decimal

from pmsync.model import CostLine, SourceRef, WorkItem
from pmsync.reconcile.crosscheck import crosscheck_project, unattributed_items, unowned_spend
from pmsync.reconcile.governance import CrosscheckConfig


def schedule_task(uid: str, name: str, finish: str, percent: float, **links: str) -> WorkItem:
    return WorkItem(
        source=SourceRef(system="msproject", instance="plan", external_id=f"erp.xml#{uid}"),
        project="ERP",
        key=uid,
        name=name,
        finish=date.fromisoformat(finish),
        percent_complete=percent,
        links=links,
    )


def jira(key: str, kind: str, category: str, finish: str | None = None) -> WorkItem:
    return WorkItem(
        source=SourceRef(system="jira", instance="jira-cloud", external_id=key.replace("ERP-", "100")),
        project="ERP",
        key=key,
        name=f"epic {key}",
        kind=kind,  # type: ignore[arg-type]
        status="Done" if category == "done" else "In Progress",
        status_category=category,  # type: ignore[arg-type]
        due=date.fromisoformat(finish) if finish else None,  # Jira has due dates, not finishes
    )


def spend(code: str | None, amount: str, project: str | None = "ERP", kind: str = "actual") -> CostLine:
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=f"{code}-{amount}-{project}"),
        project=project,
        kind=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        task_code=code,
    )


def portfolio():
    items = [
        schedule_task("12", "Build interfaces", "2026-11-20", 40, jira="ERP-12", finance="P-100.02"),
        schedule_task("13", "Data migration", "2026-11-20", 60, jira="ERP-13"),
        schedule_task("14", "Training", "2026-12-04", 0, jira="ERP-99"),
        jira("ERP-12", "epic", "done", "2026-11-20"),
        jira("ERP-13", "epic", "in_progress", "2026-11-27"),
        jira("ERP-14", "epic", "not_started"),
        jira("ERP-15", "story", "not_started"),
    ]
    lines = [
        spend("P-100.02", "5000"),
        spend("P-100.09", "1200"),
        spend("P-100.09", "300", kind="commitment"),
        spend("P-100.09", "99999", kind="budget"),  # budgets are not spend
    ]
    return items, lines


def test_every_planted_disagreement_is_reported_once():
    items, lines = portfolio()
    found = crosscheck_project("ERP", items, lines)
    by_kind = sorted((e.kind, e.description) for e in found)
    assert by_kind == [
        ("broken_link", 'MS Project task 14 "Training" links to jira ERP-99, which does not exist there'),
        (
            "date_mismatch",
            'MS Project task 13 "Data migration" finishes 2026-11-20 but Jira epic ERP-13 "epic ERP-13" '
            "finishes 2026-11-27 (5 working days apart)",
        ),
        (
            "no_counterpart",
            "1,500.00 of spend in 2 finance lines is booked to task code P-100.09, "
            "which no work item carries",
        ),
        ("no_counterpart", 'Jira epic ERP-14 "epic ERP-14" has no linked item in msproject'),
        (
            "status_mismatch",
            'Jira epic ERP-12 "epic ERP-12" is done but MS Project task 12 "Build interfaces" '
            "is 40 % complete",
        ),
    ]
    mismatch = next(e for e in found if e.kind == "status_mismatch")
    assert mismatch.records == ["jira:jira-cloud:10012", "msproject:plan:erp.xml#12"]
    unlinked = next(e for e in found if e.kind == "no_counterpart" and "spend" in e.description)
    # every row names its records: the two finance lines booked to the unlinked code
    assert unlinked.records == [
        "finance_file:ledger:P-100.09-1200-ERP",
        "finance_file:ledger:P-100.09-300-ERP",
    ]


def test_tolerance_and_required_kinds_are_configurable():
    items, lines = portfolio()
    config = CrosscheckConfig(date_tolerance_days=5, require_counterpart={})
    kinds = [e.kind for e in crosscheck_project("ERP", items, lines, config)]
    assert "date_mismatch" not in kinds
    assert kinds.count("no_counterpart") == 1  # only the unlinked spend code


def test_a_single_system_project_expects_no_counterparts():
    items = [jira("ERP-14", "epic", "not_started")]
    assert crosscheck_project("ERP", items, []) == []


def test_spend_no_project_owns_is_totalled_per_code():
    lines = [
        spend("P-999", "100.50", project=None),
        spend("P-999", "200", project=None, kind="commitment"),
        spend("X-1", "50", project="OLD"),
        spend("P-100.02", "5000"),  # owned
    ]
    found = unowned_spend(iter(lines), {"ERP"})
    assert [e.description for e in found] == [
        "300.50 in 2 finance lines from ledger is booked to P-999, which belongs to no project",
        "50.00 in 1 finance line from ledger is booked to X-1, which belongs to project 'OLD', "
        "which is not configured",
    ]
    assert all(e.kind == "unowned_spend" and e.severity == "error" for e in found)


def test_unattributed_items_are_counted_per_source():
    items = [jira("ERP-1", "story", "done").model_copy(update={"project": None}) for _ in range(3)]
    (found,) = unattributed_items(items)
    assert found.description.startswith("3 work items from jira:jira-cloud belong to no project")
