"""Restatements: actuals of periods already reported that changed after they were reported.

A finance office reopens a closed month (a duplicate invoice reversed, a charge moved to another
project) and the export for that month is restated. pmsync's store keeps every version, so the
previous report's view of a period can be compared with today's view of the *same* period:

- the lines compared are actual cost lines dated on or before the previous report's status date
  (posting date, else period), as the store held them at the previous report's moment and now;
- a line that disappeared, whose amount changed, or that appeared back-dated into a reported period
  is a restatement of that period;
- they are grouped by calendar month of the line's date, with the net change in money (negative =
  the period's actuals went down), the number of lines and their source keys.

The report lists them under "Changes since the last report" so that AC dropping (or jumping) between
two reports is never silent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pmsync.store import DatedActual, Store

ZERO = Decimal(0)


@dataclass
class Restatement:
    """The net change to one reported month's actuals."""

    period: str  # "2026-08"
    before: Decimal = ZERO
    after: Decimal = ZERO
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        """after − before: negative when the period's actuals went down."""
        return self.after - self.before

    @property
    def records(self) -> list[str]:
        return sorted(self.removed + self.changed + self.added)


def restatements(
    store: Store, project: str, previous_as_of: datetime, as_of: datetime, through: date
) -> list[Restatement]:
    """Months up to ``through`` whose actuals differ between ``previous_as_of`` and ``as_of``.

    Only lines whose stored version changed between the two moments are read (a line held unchanged
    is the same at both and restates nothing), not the project's whole ledger twice."""
    changed = store.changed_actuals([project], previous_as_of, as_of, through)
    return _by_project(changed).get(project, [])


def restatements_by_project(
    store: Store,
    previous_as_of: datetime,
    as_of: datetime,
    through: date,
    projects: Sequence[str] | None = None,
) -> dict[str, list[Restatement]]:
    """:func:`restatements` of every project of ``projects`` (``None``: all; by key, projects with
    none left out) from one read of the lines that changed: a report asks for all of its projects'
    at once, and a query per project cost more than the read itself."""
    return _by_project(store.changed_actuals(projects, previous_as_of, as_of, through))


def _by_project(
    changed: Iterable[tuple[DatedActual | None, DatedActual | None]],
) -> dict[str, list[Restatement]]:
    """The restated months of each project from its changed actuals (old and new version). A line
    that moved to another project is removed from the first and added to the second."""
    before: dict[str, dict[str, DatedActual]] = defaultdict(dict)
    now: dict[str, dict[str, DatedActual]] = defaultdict(dict)
    for old, new in changed:
        if old is not None and old.project is not None:
            before[old.project][old.key] = old
        if new is not None and new.project is not None:
            now[new.project][new.key] = new
    found = {}
    for project in sorted(before.keys() | now.keys()):
        months = _months(before[project], now[project])
        if months:
            found[project] = months
    return found


def _months(before: dict[str, DatedActual], now: dict[str, DatedActual]) -> list[Restatement]:
    months: dict[str, Restatement] = defaultdict(lambda: Restatement(period=""))

    def month(line: DatedActual) -> Restatement:
        label = f"{line.day.year:04d}-{line.day.month:02d}"
        found = months[label]
        found.period = label
        return found

    for key, old in before.items():
        new = now.get(key)
        if new is None:
            entry = month(old)
            entry.before += old.amount
            entry.removed.append(key)
        elif new.amount != old.amount or new.day != old.day:
            month(old).before += old.amount
            entry = month(new)
            entry.after += new.amount
            entry.changed.append(key)
    for key, new in now.items():
        if key not in before:
            entry = month(new)
            entry.after += new.amount
            entry.added.append(key)
    return [months[k] for k in sorted(months) if months[k].amount or months[k].records]
