"""Cross-system consistency: does the schedule agree with Jira, and does finance agree with both?

Work is linked across systems through ``WorkItem.links`` — keys of the same deliverable elsewhere,
set by the connectors from the mapping files (e.g. an MS Project custom field "Jira Key" →
``links["jira"] = "ERP-12"``, a "Finance Code" field → ``links["finance"] = "P-100.02"``). A link
target may be named by system (``jira``), by configured source name (``jira-cloud``), or as
``finance`` for any finance source; it matches the other item's key, external id or WBS code, or a
cost line's task code.

What is reported, one :class:`ReconciliationException` each, with the figures:
- ``broken_link``: a link names an item that does not exist in the target system;
- ``date_mismatch``: linked items whose finish dates differ by more than the tolerance;
- ``status_mismatch``: one side is done while the other is not (e.g. Jira done, schedule 40 %);
- ``no_counterpart``: an item of a kind that must be linked (Jira epics by default) with no link,
  or spend booked to a task code that no work item carries;
- ``unowned_spend``: spend booked to a project / code no configured project owns;
- ``unattributed_record``: work items a connector could not attribute to any project.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pmsync.model import CostLine, WorkItem
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.governance import CrosscheckConfig
from pmsync.reconcile.results import ReconciliationException
from pmsync.store import CostTotal, as_totals

#: at most this many record keys are kept per aggregated exception (the count says how many there are)
MAX_RECORDS = 20

_SYSTEM_WORDS = {
    "jira": "Jira",
    "msproject": "MS Project",
    "planner": "Planner",
    "dataverse": "Planner premium",
}


def _is_finance(system: str) -> bool:
    return system.startswith("finance")


def _aliases(system: str, instance: str) -> set[str]:
    names = {system.lower(), instance.lower()}
    if _is_finance(system):
        names.add("finance")
    return names


def describe(item: WorkItem) -> str:
    """``MS Project task "Build interfaces" (12)`` — how a PM would name the item."""
    system = _SYSTEM_WORDS.get(item.source.system, item.source.system)
    ident = item.key or item.source.external_id
    return f'{system} {item.kind} {ident} "{item.name}"'


def _done(item: WorkItem) -> bool:
    return item.status_category == "done" or (item.percent_complete or 0) >= 100


def _progress(item: WorkItem) -> str:
    if item.percent_complete is not None:
        return f"{item.percent_complete:g} % complete"
    return item.status or item.status_category.replace("_", " ")


@dataclass
class _Index:
    """Work items by (alias of their system) → identifier, and finance task codes by alias."""

    items: dict[str, dict[str, WorkItem]] = field(default_factory=lambda: defaultdict(dict))
    codes: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    #: finance task code → the source keys of its lines (so an exception names its records)
    code_lines: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: finance task code → how many lines are booked to it
    code_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add_item(self, item: WorkItem) -> None:
        idents = {item.source.external_id, item.key, item.wbs} - {None, ""}
        for alias in _aliases(item.source.system, item.source.instance):
            for ident in idents:
                self.items[alias].setdefault(str(ident).lower(), item)

    def add_code(self, line: CostTotal) -> None:
        if not line.task_code:
            return
        for alias in _aliases(line.system, line.instance):
            codes = self.codes[alias]
            codes[line.task_code.lower()] = codes.get(line.task_code.lower(), Decimal(0)) + line.amount
        self.code_lines[line.task_code.lower()].extend(line.keys)
        self.code_counts[line.task_code.lower()] += line.lines


def crosscheck_project(
    project: str,
    items: Iterable[WorkItem],
    cost_lines: Iterable[CostLine | CostTotal],
    config: CrosscheckConfig | None = None,
    calendar: WorkingCalendar | None = None,
    line_keys: Callable[[str], list[str]] | None = None,
) -> list[ReconciliationException]:
    """Exceptions within one project's work items and cost lines (all systems).

    Totals summed by the store carry no line keys: ``line_keys(task_code)`` reads the keys of the
    lines booked to a task code, asked only for codes that give an exception."""
    config = config or CrosscheckConfig()
    cal = calendar or WorkingCalendar()
    index = _Index()
    all_items: list[WorkItem] = []
    for item in items:
        index.add_item(item)
        all_items.append(item)
    for line in as_totals(cost_lines):
        if line.kind in ("actual", "commitment"):
            index.add_code(line)
    systems = {i.source.system for i in all_items}

    found: list[ReconciliationException] = []
    paired: dict[str, set[str]] = defaultdict(set)
    linked_codes: set[str] = set()
    seen_pairs: set[tuple[str, str]] = set()
    for item in all_items:
        for target, value in sorted(item.links.items()):
            alias, wanted = target.lower(), value.strip().lower()
            if alias == "finance" or alias in index.codes:
                # A finance code with no spend yet is normal; codes are checked from the spend side.
                linked_codes.add(wanted)
                continue
            if alias not in index.items:
                continue  # that system holds no data for this project: nothing to compare with
            other = index.items[alias].get(wanted)
            if other is None:
                found.append(
                    ReconciliationException(
                        kind="broken_link",
                        severity="warning",
                        project=project,
                        records=[item.source.key()],
                        description=f"{describe(item)} links to {target} {value}, which does not exist there",
                        details={"link_system": target, "link_key": value},
                    )
                )
                continue
            a, b = item.source.key(), other.source.key()
            paired[a].add(b)
            paired[b].add(a)
            pair = (min(a, b), max(a, b))
            if pair in seen_pairs:
                continue
            seen_pairs.add(pair)
            found.extend(_compare(project, item, other, config, cal))

    for item in all_items:
        kinds = config.require_counterpart.get(item.source.system, [])
        others = systems - {item.source.system}
        if item.kind in kinds and others and not paired.get(item.source.key()):
            found.append(
                ReconciliationException(
                    kind="no_counterpart",
                    severity="warning",
                    project=project,
                    records=[item.source.key()],
                    description=f"{describe(item)} has no linked item in {', '.join(sorted(others))}",
                    details={"system": item.source.system, "kind": item.kind},
                )
            )
    if linked_codes:
        for code, amount in sorted(index.codes.get("finance", {}).items()):
            if code not in linked_codes:
                found.append(
                    ReconciliationException(
                        kind="no_counterpart",
                        severity="warning",
                        project=project,
                        records=sorted(index.code_lines.get(code) or (line_keys(code) if line_keys else [])),
                        description=(
                            f"{amount:,.2f} of spend in {index.code_counts.get(code, 0)} finance lines "
                            f"is booked to task code {code.upper()}, which no work item carries"
                        ),
                        details={"task_code": code.upper(), "amount": f"{amount:.2f}"},
                    )
                )
    return found


def _compare(
    project: str, a: WorkItem, b: WorkItem, config: CrosscheckConfig, cal: WorkingCalendar
) -> list[ReconciliationException]:
    found = []
    records = [a.source.key(), b.source.key()]
    # Jira and Planner often carry only a due date; it is their finish for this comparison.
    a_finish, b_finish = a.finish or a.due, b.finish or b.due
    if a_finish and b_finish:
        gap = cal.variance(a_finish, b_finish)
        if abs(gap) > config.date_tolerance_days:
            found.append(
                ReconciliationException(
                    kind="date_mismatch",
                    severity="warning",
                    project=project,
                    records=records,
                    description=(
                        f"{describe(a)} finishes {a_finish.isoformat()} but {describe(b)} finishes "
                        f"{b_finish.isoformat()} ({abs(gap)} working days apart)"
                    ),
                    details={
                        "finish_a": a_finish.isoformat(),
                        "finish_b": b_finish.isoformat(),
                        "working_days_apart": str(abs(gap)),
                    },
                )
            )
    for done, other in ((a, b), (b, a)):
        if _done(done) and not _done(other):
            below = other.percent_complete is None or other.percent_complete < config.done_vs_percent_below
            if below:
                found.append(
                    ReconciliationException(
                        kind="status_mismatch",
                        severity="warning",
                        project=project,
                        records=[done.source.key(), other.source.key()],
                        description=f"{describe(done)} is done but {describe(other)} is {_progress(other)}",
                        details={"done": done.source.key(), "other_progress": _progress(other)},
                    )
                )
    return found


def unowned_spend(
    cost_lines: Iterable[CostLine], projects: Sequence[str] | set[str]
) -> list[ReconciliationException]:
    """Spend (actuals and commitments) booked to no configured project, one exception per code.

    Streams the lines and keeps only one running total per (source, code), so a million finance lines
    cost a few kilobytes."""
    known = set(projects)
    totals: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    examples: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for line in cost_lines:
        if line.kind not in ("actual", "commitment") or (line.project is not None and line.project in known):
            continue
        code = line.project_code or line.task_code or line.account or "(no code)"
        key = (line.source.instance, line.project or "", code)
        amount, count = totals.get(key, (Decimal(0), 0))
        totals[key] = (amount + line.amount, count + 1)
        if len(examples[key]) < MAX_RECORDS:  # bounded: a million lines must not become a million keys
            examples[key].append(line.source.key())
    found = []
    for (instance, project, code), (amount, count) in sorted(totals.items()):
        owner = f"project {project!r}, which is not configured" if project else "no project"
        found.append(
            ReconciliationException(
                kind="unowned_spend",
                severity="error",
                project=None,
                records=sorted(examples[(instance, project, code)]),
                description=(
                    f"{amount:,.2f} in {count} finance line{'s' if count != 1 else ''} from {instance} is "
                    f"booked to {code}, which belongs to {owner}"
                ),
                details={"source": instance, "code": code, "amount": f"{amount:.2f}", "lines": str(count)},
            )
        )
    return found


def unattributed_items(items: Iterable[WorkItem]) -> list[ReconciliationException]:
    """One exception per source whose work items could not be attributed to a project."""
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        if item.project is None:
            counts[f"{item.source.system}:{item.source.instance}"] += 1
    return [
        ReconciliationException(
            kind="unattributed_record",
            severity="warning",
            description=(
                f"{count} work item{'s' if count != 1 else ''} from {source} belong to no project "
                "(add the source's project key to a project's links in pmsync.yaml)"
            ),
            details={"source": source, "count": str(count)},
        )
        for source, count in sorted(counts.items())
    ]
