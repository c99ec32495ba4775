"""Planner's entities in the sandbox (plans, buckets, tasks, details) with their etags, kept as Graph's
JSON; served by :mod:`pmsync.sandbox.graph_planner`."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pmsync import clock


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if moment else ""


def _identity(user_id: str | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    return {"user": {"displayName": None, "id": user_id}}


class PlannerData:
    """The Planner entities (thread-safe). Entities are stored as Graph JSON without ``@odata.etag``;
    a per-entity version number makes the etag."""

    def __init__(self) -> None:
        self.groups: dict[str, list[str]] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self.buckets: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.details: dict[str, dict[str, Any]] = {}
        #: plannerPlanDetails per plan: its label names (categoryDescriptions)
        self.plan_details: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, int] = {}
        self._lock = threading.RLock()

    # -- etags -----------------------------------------------------------------------------------
    def _bump(self, entity_id: str) -> None:
        self._versions[entity_id] = self._versions.get(entity_id, 0) + 1

    def etag(self, entity_id: str) -> str:
        # Planner etags are W/"<base64 of a quoted version string>"; clients must treat them as opaque.
        raw = f"'{self._versions.get(entity_id, 1)}-{entity_id[:8]}  @@@@@@@@@@@@@@@@@@@@@'".encode()
        return f'W/"{base64.b64encode(raw).decode()}"'

    def _with_etag(self, entity_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"@odata.etag": self.etag(entity_id), **body}

    # -- building the data -----------------------------------------------------------------------
    def add_plan(
        self, group_id: str, title: str, *, plan_id: str | None = None, owner: str | None = None
    ) -> str:
        plan_id = plan_id or _planner_id()
        with self._lock:
            self.groups.setdefault(group_id, []).append(plan_id)
            self.plans[plan_id] = {
                "createdDateTime": _stamp(clock.now()),
                "owner": group_id,
                "title": title,
                "id": plan_id,
                "createdBy": _identity(owner),
                "container": {
                    "containerId": group_id,
                    "type": "group",
                    "url": f"https://graph.microsoft.com/v1.0/groups/{group_id}",
                },
            }
            self.plan_details[plan_id] = {
                "sharedWith": {},
                "categoryDescriptions": {f"category{n}": None for n in range(1, 26)},
                "id": plan_id,
            }
            self._bump(plan_id)
            self._bump(f"plandetails:{plan_id}")
        return plan_id

    def name_labels(self, plan_id: str, names: dict[int, str | None]) -> None:
        """Name the plan's labels (Planner's 25 categories), as a plan member does in the UI."""
        with self._lock:
            descriptions = self.plan_details[plan_id]["categoryDescriptions"]
            for number, name in names.items():
                descriptions[f"category{number}"] = name
            self._bump(f"plandetails:{plan_id}")

    def details_of_plan(self, plan_id: str) -> dict[str, Any] | None:
        with self._lock:
            details = self.plan_details.get(plan_id)
            return None if details is None else self._with_etag(f"plandetails:{plan_id}", details)

    def add_bucket(self, plan_id: str, name: str, *, bucket_id: str | None = None) -> str:
        bucket_id = bucket_id or _planner_id()
        with self._lock:
            order = len([b for b in self.buckets.values() if b["planId"] == plan_id])
            self.buckets[bucket_id] = {
                "name": name,
                "planId": plan_id,
                "orderHint": f"85{order:04d}7P!",
                "id": bucket_id,
            }
            self._bump(bucket_id)
        return bucket_id

    def add_task(
        self,
        plan_id: str,
        title: str,
        *,
        bucket_id: str | None = None,
        task_id: str | None = None,
        percent_complete: int = 0,
        start: date | None = None,
        due: date | None = None,
        assignees: Iterable[str] = (),
        checklist: Iterable[tuple[str, bool]] = (),
        description: str = "",
        priority: int = 5,
        created_by: str | None = None,
        set_in: str = "UTC",
        labels: Iterable[int] = (),
    ) -> str:
        """A task; ``set_in`` is the IANA time zone of the person who set its dates (Planner keeps
        a date as the midnight that began it there, see :func:`_date_stamp`)."""
        task_id = task_id or _planner_id()
        now = clock.now()
        items = list(checklist)
        with self._lock:
            self.tasks[task_id] = {
                "planId": plan_id,
                "bucketId": bucket_id,
                "title": title,
                "orderHint": f"8585{len(self.tasks):06d}",
                "assigneePriority": "",
                "percentComplete": percent_complete,
                "priority": priority,
                "startDateTime": _date_stamp(start, set_in),
                "createdDateTime": _stamp(now),
                "dueDateTime": _date_stamp(due, set_in),
                "hasDescription": bool(description),
                "previewType": "automatic",
                "completedDateTime": _stamp(now) if percent_complete == 100 else None,
                "completedBy": _identity(created_by) if percent_complete == 100 else None,
                "referenceCount": 0,
                "checklistItemCount": len(items),
                "activeChecklistItemCount": sum(1 for _, checked in items if not checked),
                "conversationThreadId": None,
                "id": task_id,
                "createdBy": _identity(created_by),
                "appliedCategories": {f"category{n}": True for n in labels},
                "assignments": {
                    user: {
                        "@odata.type": "#microsoft.graph.plannerAssignment",
                        "assignedDateTime": _stamp(now),
                        "orderHint": '" !',
                        "assignedBy": _identity(created_by),
                    }
                    for user in assignees
                },
            }
            self.details[task_id] = {
                "description": description,
                "previewType": "automatic",
                "id": task_id,
                "references": {},
                "checklist": {
                    str(uuid.uuid5(uuid.NAMESPACE_OID, f"{task_id}/{index}")): {
                        "@odata.type": "#microsoft.graph.plannerChecklistItem",
                        "isChecked": checked,
                        "title": text,
                        "orderHint": f"85{index:04d}",
                        "lastModifiedDateTime": _stamp(now),
                        "lastModifiedBy": _identity(created_by),
                    }
                    for index, (text, checked) in enumerate(items)
                },
            }
            self._bump(task_id)
            self._bump(f"details:{task_id}")
        return task_id

    def update_task(self, task_id: str, **changes: Any) -> None:
        """Change a task as a Planner user would (Graph property names); its etag changes."""
        with self._lock:
            task = self.tasks[task_id]
            for key, value in changes.items():
                if key not in task:
                    raise KeyError(key)
                task[key] = value
            if task["percentComplete"] == 100 and not task.get("completedDateTime"):
                task["completedDateTime"] = _stamp(clock.now())
            self._bump(task_id)

    def delete_task(self, task_id: str) -> None:
        with self._lock:
            del self.tasks[task_id]
            self.details.pop(task_id, None)

    # -- reading ---------------------------------------------------------------------------------
    def plans_of(self, group_id: str) -> list[dict[str, Any]] | None:
        with self._lock:
            if group_id not in self.groups:
                return None
            return [self._with_etag(p, self.plans[p]) for p in self.groups[group_id] if p in self.plans]

    def plan(self, plan_id: str) -> dict[str, Any] | None:
        with self._lock:
            plan = self.plans.get(plan_id)
            return None if plan is None else self._with_etag(plan_id, plan)

    def buckets_of(self, plan_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [self._with_etag(b, v) for b, v in self.buckets.items() if v["planId"] == plan_id]

    def tasks_of(self, plan_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [self._with_etag(t, v) for t, v in self.tasks.items() if v["planId"] == plan_id]

    def task(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            task = self.tasks.get(task_id)
            return None if task is None else self._with_etag(task_id, task)

    def task_details(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            details = self.details.get(task_id)
            return None if details is None else self._with_etag(f"details:{task_id}", details)


def _planner_id() -> str:
    # Planner ids are 28-character URL-safe strings.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:5]).decode()[:28]


def _date_stamp(day: date | None, zone: str = "UTC") -> str | None:
    """A Planner date as Graph returns it: the client's local midnight of that day, in UTC. The
    Planner apps send the start and due dates that way, so a task dated 2026-11-20 by someone in
    Berlin reads ``2026-11-19T23:00:00Z`` and by someone in Los Angeles ``2026-11-20T08:00:00Z``
    (plannerTask's dueDateTime is an Edm.DateTimeOffset; Graph keeps the instant it is given)."""
    if day is None:
        return None
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    return _stamp(midnight.astimezone(UTC))
