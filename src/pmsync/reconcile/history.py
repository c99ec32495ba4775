"""Work progress at several past moments in one pass over the store's history.

The S-curve needs earned value at every past month end. Reading all work items "as of" each month
end decodes every item once per month; here each stored version is decoded once and credited to
every month end it was valid at. This reads the store's versions
(:func:`pmsync.store.versions.versions`) directly, because the store's public reader answers one
moment per call.

Only what earned value needs is taken from a version: status category, actual finish, percent
complete, physical percent complete and actual cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, select

from pmsync.store import Store
from pmsync.store.versions import versions


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


@lru_cache(maxsize=1)
def _progress_query() -> Select[Any]:
    """A project's work item versions valid between two moments (built once; values bound per call)."""
    valid = versions(record_type=True, project=True, during=True, include_deleted=False).subquery()
    # Ordered so each moment lists its items in the same order on every dialect and every run.
    return select(valid.c.valid_from, valid.c.valid_to, valid.c.payload).order_by(
        valid.c.record_id, valid.c.valid_from
    )


def progress_at(store: Store, project: str, moments: Sequence[datetime]) -> list[dict[str, Progress]]:
    """For each of ``moments`` (ascending), the progress of every work item of ``project`` then."""
    if not moments:
        return []
    params = {"record_type": "work_item", "project": project, "first": moments[0], "last": moments[-1]}
    found: list[dict[str, Progress]] = [{} for _ in moments]
    with store.engine.connect() as conn:
        rows = conn.execution_options(yield_per=1000).execute(_progress_query(), params)
        for valid_from, valid_to, payload in rows:
            covered = [
                i for i, m in enumerate(moments) if valid_from <= m and (valid_to is None or valid_to > m)
            ]
            if not covered:
                continue
            key, progress = _key(payload), _progress(payload)
            for index in covered:
                found[index][key] = progress
    return found
