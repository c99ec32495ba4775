"""Work progress at several past moments in one pass over the store's history.

The S-curve needs earned value at every past month end. Reading all work items "as of" each month
end decodes every item once per month; here the store streams each record's versions once
(:meth:`pmsync.store.Store.payloads_at`) and each is credited to every month end it was valid at.

Only what earned value needs is taken from a version: status category, actual finish, percent
complete, physical percent complete and actual cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

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


def _progress(payload: dict[str, Any]) -> Progress:
    percent = payload.get("percent_complete")
    cost = payload.get("actual_cost")
    return Progress(
        done=payload.get("status_category") == "done"
        or payload.get("actual_finish") is not None
        or (percent is not None and float(percent) >= 100),
        percent=None if percent is None else float(percent),
        physical_percent=None
        if payload.get("physical_percent_complete") is None
        else float(payload["physical_percent_complete"]),
        actual_cost=None if cost is None else Decimal(str(cost)),
        in_progress=payload.get("status_category") == "in_progress",
    )


def _key(payload: dict[str, Any]) -> str:
    source = payload["source"]
    return f"{source['system']}:{source['instance']}:{source['external_id']}"


def progress_at(store: Store, project: str, moments: Sequence[datetime]) -> list[dict[str, Progress]]:
    """For each of ``moments`` (ascending), the progress of every work item of ``project`` then.

    On a valid-time view of the store (:meth:`Store.at`) the moments are valid times: a Jira item is
    rolled back through its changelog, a schedule task read from the snapshot held then."""
    if not moments:
        return []
    found: list[dict[str, Progress]] = [{} for _ in moments]
    for payloads in store.payloads_at("work_item", project, moments):
        for index, payload in enumerate(payloads):
            if payload is not None:
                found[index][_key(payload)] = _progress(payload)
    return found
