"""Work progress at several past moments in one pass over the store's history.

The S-curve needs earned value at every past month end. Reading all work items "as of" each month
end decodes every item once per month; here the store streams each record's versions once
(:meth:`pmsync.store.Store.records_at`, which decodes each distinct version once) and each is credited
to every month end it was valid at.

Only what earned value needs is taken from a version (:func:`progress_of`), read from the model's
fields, so that renaming a field fails the type check instead of silently flattening the S-curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pmsync.model import WorkItem
from pmsync.reconcile.health import is_complete
from pmsync.store import Store


@dataclass(frozen=True)
class Progress:
    """A work item's progress as it was at one moment."""

    done: bool
    percent: float | None
    physical_percent: float | None
    actual_cost: Decimal | None
    in_progress: bool = False

    def percent_for_ev(self) -> float:
        """Physical % when given, else % complete; without either the 0/50/100 rule (in progress 50 %),
        because a backlog item (Jira, Planner) reports status, not a percentage."""
        if self.done:
            return 100.0
        if self.physical_percent is not None:
            return self.physical_percent
        if self.percent is not None:
            return self.percent
        return 50.0 if self.in_progress else 0.0


def progress_of(item: WorkItem) -> Progress:
    """What earned value takes from a work item (complete as :func:`~pmsync.reconcile.health.is_complete`
    says: done, actually finished, or 100 %)."""
    return Progress(
        done=is_complete(item),
        percent=item.percent_complete,
        physical_percent=item.physical_percent_complete,
        actual_cost=item.actual_cost,
        in_progress=item.status_category == "in_progress",
    )


def progress_at(store: Store, project: str, moments: Sequence[datetime]) -> list[dict[str, Progress]]:
    """For each of ``moments`` (ascending), the progress of every work item of ``project`` then.

    On a valid-time view of the store (:meth:`Store.at`) the moments are valid times: a Jira item is
    rolled back through its changelog, a schedule task read from the snapshot held then."""
    if not moments:
        return []
    found: list[dict[str, Progress]] = [{} for _ in moments]
    for versions in store.records_at(WorkItem, project, moments):
        for index, item in enumerate(versions):
            if item is not None:
                found[index][item.source.key()] = progress_of(item)
    return found
