"""Reconciliation exceptions grouped by rule, so the signal is not drowned by its repetitions.

The project page shows one row per rule (``kind``) with its count and the worst few examples; the
appendix and the XLSX "Exceptions" sheet keep every exception, each naming its records. "Worst" is the
highest severity first, then the largest figure (working days apart, amount of spend), then the
records' keys, so the choice is stable from one report to the next.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pmsync.reconcile.results import ReconciliationException
from pmsync.report.model import ExceptionGroup

#: examples shown per rule on the project page
EXAMPLES = 3

RULES: dict[str, str] = {
    "date_mismatch": "linked items in two systems whose finish dates disagree",
    "status_mismatch": "one linked item is done while its counterpart is not",
    "broken_link": "a link names an item that does not exist in the other system",
    "no_counterpart": "an item (or spend) that should be linked to another system is not",
    "unowned_spend": "spend booked to a code no configured project owns",
    "unattributed_record": "records a connector could not attribute to any project",
}
_SEVERITY = {"error": 0, "warning": 1, "info": 2}


def _magnitude(exception: ReconciliationException) -> float:
    for name in ("working_days_apart", "amount"):
        value = exception.details.get(name)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                continue
    return 0.0


def worst_first(exception: ReconciliationException) -> tuple[int, float, list[str], str]:
    return (_SEVERITY[exception.severity], -_magnitude(exception), exception.records, exception.description)


def group_exceptions(exceptions: Iterable[ReconciliationException]) -> list[ExceptionGroup]:
    """One group per rule, the groups with the most severe and most numerous exceptions first."""
    by_kind: dict[str, list[ReconciliationException]] = defaultdict(list)
    for exception in exceptions:
        by_kind[exception.kind].append(exception)
    groups = []
    for kind, members in by_kind.items():
        members.sort(key=worst_first)
        groups.append(
            ExceptionGroup(
                kind=kind,
                rule=RULES.get(kind, kind.replace("_", " ")),
                severity=members[0].severity,
                count=len(members),
                examples=members[:EXAMPLES],
            )
        )
    return sorted(groups, key=lambda g: (_SEVERITY[g.severity], -g.count, g.kind))
