"""Planner in the sandbox Graph v1.0: plans, buckets, tasks and task details, as Graph serves them.

Routes (all need the application permission ``Tasks.Read.All`` or ``Tasks.ReadWrite.All``):

- ``GET /v1.0/groups/{group-id}/planner/plans``
- ``GET /v1.0/planner/plans/{plan-id}`` and ``.../buckets``, ``.../tasks``
- ``GET /v1.0/planner/tasks/{task-id}`` and ``.../details``
- ``PATCH /v1.0/planner/tasks/{task-id}`` with ``If-Match`` (412 when the etag is stale), so tests and
  the demo can change a task over the wire as a Planner user would.

Collections are paged with ``@odata.nextLink`` (a ``$skiptoken``); every entity carries an
``@odata.etag`` that changes whenever the entity does. Graph v1.0 has no Planner delta query, which is
why the connector compares etags. Property names are those of Graph's v1.0 CSDL (a test checks them).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from pmsync import clock
from pmsync.sandbox.faults import WSGIApp

if TYPE_CHECKING:
    from pmsync.sandbox.graph import GraphState

PLANNER_READ = ("Tasks.Read.All", "Tasks.ReadWrite.All")
PLANNER_WRITE = ("Tasks.ReadWrite.All",)
_PATCHABLE = {
    "title",
    "percentComplete",
    "startDateTime",
    "dueDateTime",
    "bucketId",
    "priority",
    "assignments",
}


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


# -- the WSGI app ----------------------------------------------------------------------------------
_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("group_plans", re.compile(r"^/v1\.0/groups/(?P<id>[^/]+)/planner/plans$")),
    ("plan", re.compile(r"^/v1\.0/planner/plans/(?P<id>[^/]+)$")),
    ("plan_details", re.compile(r"^/v1\.0/planner/plans/(?P<id>[^/]+)/details$")),
    ("plan_buckets", re.compile(r"^/v1\.0/planner/plans/(?P<id>[^/]+)/buckets$")),
    ("plan_tasks", re.compile(r"^/v1\.0/planner/plans/(?P<id>[^/]+)/tasks$")),
    ("task", re.compile(r"^/v1\.0/planner/tasks/(?P<id>[^/]+)$")),
    ("task_details", re.compile(r"^/v1\.0/planner/tasks/(?P<id>[^/]+)/details$")),
]


def _page(state: GraphState, request: Request, items: list[dict[str, Any]], context: str) -> dict[str, Any]:
    offset = 0
    token = request.args.get("$skiptoken")
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            offset = -1
    size = min(int(request.args.get("$top", state.page_size)), state.page_size)
    body: dict[str, Any] = {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{context}",
        "@odata.count": len(items),
        "value": items[offset : offset + size],
    }
    if offset + size < len(items):
        next_token = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        body["@odata.nextLink"] = f"{state.base_url}{request.path}?$skiptoken={next_token}"
    return body


def make_planner_app(state: GraphState) -> WSGIApp:
    from pmsync.sandbox.graph import graph_error, graph_json, require_roles

    data = state.planner

    def not_found(kind: str, entity_id: str) -> Response:
        if kind == "group":
            return graph_error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{entity_id}' does not exist or one of its queried reference-property objects "
                "are not present.",
            )
        return graph_error(404, "", "The requested item is not found.")

    def handle(request: Request) -> Response:
        found = next(((n, m) for n, p in _ROUTES if (m := p.match(request.path))), None)
        if found is None:
            return graph_error(400, "BadRequest", f"Resource not found for the segment '{request.path}'.")
        name, match = found
        entity_id = match.group("id")
        writing = request.method == "PATCH"
        if request.method not in ("GET", "PATCH") or (writing and name != "task"):
            return graph_error(405, "BadRequest", f"The HTTP method '{request.method}' is not allowed.")
        claims = require_roles(request, state, PLANNER_WRITE if writing else PLANNER_READ)
        if isinstance(claims, Response):
            return claims
        if name == "group_plans":
            plans = data.plans_of(entity_id)
            if plans is None:
                return not_found("group", entity_id)
            return graph_json(200, _page(state, request, plans, "planner/plans"))
        if name == "plan_details":
            details = data.details_of_plan(entity_id)
            if details is None:
                return not_found("plan", entity_id)
            context = "https://graph.microsoft.com/v1.0/$metadata#planner/plans('{}')/details/$entity"
            return graph_json(200, {"@odata.context": context.format(entity_id), **details})
        if name in ("plan", "plan_buckets", "plan_tasks"):
            plan = data.plan(entity_id)
            if plan is None:
                return not_found("plan", entity_id)
            if name == "plan":
                body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#planner/plans/$entity"}
                return graph_json(200, {**body, **plan})
            items = data.buckets_of(entity_id) if name == "plan_buckets" else data.tasks_of(entity_id)
            what = "buckets" if name == "plan_buckets" else "tasks"
            return graph_json(200, _page(state, request, items, f"planner/plans('{entity_id}')/{what}"))
        if name == "task_details":
            details = data.task_details(entity_id)
            return not_found("task", entity_id) if details is None else graph_json(200, details)
        task = data.task(entity_id)
        if task is None:
            return not_found("task", entity_id)
        if writing:
            return _patch_task(request, data, task, graph_error, graph_json)
        return graph_json(200, task)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return handle(Request(environ))(environ, start_response)

    return app


def _patch_task(
    request: Request,
    data: PlannerData,
    task: dict[str, Any],
    graph_error: Callable[..., Response],
    graph_json: Callable[..., Response],
) -> Response:
    if_match = request.headers.get("If-Match")
    if not if_match:
        return graph_error(
            400, "BadRequest", "The If-Match header must be specified for this kind of request."
        )
    if if_match != task["@odata.etag"]:
        return graph_error(
            412, "", "The request is not valid for the current state of the resource (etag mismatch)."
        )
    try:
        changes = json.loads(request.get_data() or b"{}")
    except ValueError:
        return graph_error(400, "BadRequest", "Invalid request body.")
    unknown = set(changes) - _PATCHABLE
    if not isinstance(changes, dict) or unknown:
        return graph_error(400, "BadRequest", f"Invalid properties: {', '.join(sorted(unknown))}.")
    data.update_task(task["id"], **changes)
    if request.headers.get("Prefer") == "return=representation":
        return graph_json(200, data.task(task["id"]))
    return Response(status=204)


# -- demo data -------------------------------------------------------------------------------------
DEMO_GROUP_ID = "1f4c3a2b-7d6e-4b8a-9c0d-2e1f3a4b5c6d"
#: where the demo team sets its Planner dates from (all within 12 hours of one another)
DEMO_ZONES = ("America/New_York", "America/Los_Angeles", "Europe/London", "Pacific/Honolulu", "Europe/Berlin")


def seed_demo(data: PlannerData, users: list[str], *, today: date | None = None) -> dict[str, str]:
    """A realistic demo: one Microsoft 365 group with two plans; returns plan ids by title."""
    today = today or clock.now().date()
    user_cycle = users or [str(uuid.uuid4())]

    def user(i: int) -> str:
        return user_cycle[i % len(user_cycle)]

    def zone(i: int) -> str:
        # The team sets dates from several offices: Planner stores each one's local midnight.
        return DEMO_ZONES[i % len(DEMO_ZONES)]

    plans: dict[str, str] = {}
    plan = data.add_plan(
        DEMO_GROUP_ID, "Case Management Modernization", plan_id="CMMplanAAAAAAAAAAAAAAAAAAAAA"[:28]
    )
    plans["Case Management Modernization"] = plan
    data.name_labels(plan, {1: "Risk", 2: "Blocked", 3: "Security"})
    #: task index → its labels (category numbers)
    labelled = {4: (1,), 5: (1, 3), 6: (3,), 8: (2,)}
    stages = ["Discovery", "Build", "Test", "Deploy"]
    buckets = {name: data.add_bucket(plan, name) for name in stages}
    start = today - timedelta(days=60)
    work = [
        (
            "Discovery",
            "Stakeholder interviews",
            100,
            0,
            10,
            [("Schedule sessions", True), ("Write notes", True)],
        ),
        ("Discovery", "Current-state process map", 100, 5, 20, [("Intake", True), ("Adjudication", True)]),
        ("Discovery", "Requirements baseline sign-off", 100, 20, 25, []),
        ("Build", "Configure case intake", 50, 25, 55, [("Forms", True), ("Routing rules", False)]),
        (
            "Build",
            "Data migration scripts",
            50,
            30,
            70,
            [("Extract", True), ("Transform", False), ("Load", False)],
        ),
        ("Build", "Interface to payment system", 0, 45, 80, []),
        ("Build", "Role-based access model", 50, 35, 60, [("Roles", True), ("Review with security", False)]),
        ("Test", "System test plan", 50, 50, 65, []),
        ("Test", "User acceptance testing", 0, 75, 95, [("Recruit testers", False)]),
        ("Test", "Accessibility (Section 508) review", 0, 80, 90, []),
        ("Deploy", "Cutover runbook", 0, 90, 100, []),
        ("Deploy", "Go-live", 0, 105, 105, []),
    ]
    for index, (bucket, title, percent, offset, finish, checklist) in enumerate(work):
        data.add_task(
            plan,
            title,
            bucket_id=buckets[bucket],
            task_id=f"CMMtask{index:02d}".ljust(28, "A"),
            percent_complete=percent,
            start=start + timedelta(days=offset),
            due=start + timedelta(days=finish),
            assignees=[user(index)] if index % 5 != 4 else [user(index), user(index + 1)],
            checklist=checklist,
            description=f"{title} for the case management modernization." if index % 3 == 0 else "",
            priority=1 if "Go-live" in title else 5,
            created_by=user(0),
            set_in=zone(index),
            labels=labelled.get(index, ()),
        )
    plan2 = data.add_plan(DEMO_GROUP_ID, "Network Refresh", plan_id="NETplanAAAAAAAAAAAAAAAAAAAAA"[:28])
    plans["Network Refresh"] = plan2
    site_bucket = data.add_bucket(plan2, "Sites")
    for index, site in enumerate(["Headquarters", "Field office North", "Field office South", "Data center"]):
        data.add_task(
            plan2,
            f"Replace switches: {site}",
            bucket_id=site_bucket,
            task_id=f"NETtask{index:02d}".ljust(28, "A"),
            percent_complete=(100, 50, 0, 0)[index],
            start=start + timedelta(days=15 * index),
            due=start + timedelta(days=15 * index + 20),
            assignees=[user(index + 2)],
            created_by=user(0),
            set_in=zone(index + 2),
        )
    return plans


def seed_bulk(
    data: PlannerData, *, plans: int, tasks_per_plan: int, group_id: str = DEMO_GROUP_ID
) -> list[str]:
    """Many plain plans and tasks, for benchmarks."""
    ids = []
    day = date(2026, 1, 5)
    for p in range(plans):
        plan = data.add_plan(group_id, f"Bulk plan {p}")
        bucket = data.add_bucket(plan, "Work")
        for t in range(tasks_per_plan):
            data.add_task(
                plan,
                f"Task {p}.{t}",
                bucket_id=bucket,
                percent_complete=(0, 50, 100)[t % 3],
                start=day + timedelta(days=t % 90),
                due=day + timedelta(days=t % 90 + 10),
            )
        ids.append(plan)
    return ids


def iter_entity_names() -> Iterator[tuple[str, set[str]]]:
    """(CSDL entity or complex type, property names) for everything this module serves: the schema
    test checks each against Graph's v1.0 CSDL."""
    data = PlannerData()
    plan = data.add_plan("g", "p")
    bucket = data.add_bucket(plan, "b")
    task = data.add_task(
        plan,
        "t",
        bucket_id=bucket,
        percent_complete=100,
        assignees=["u"],
        checklist=[("c", True)],
        description="d",
        created_by="u",
    )
    yield "plannerPlan", _props(data.plan(plan))
    yield "plannerPlanContainer", set(data.plans[plan]["container"])
    yield "plannerPlanDetails", _props(data.details_of_plan(plan))
    yield "plannerCategoryDescriptions", set(data.plan_details[plan]["categoryDescriptions"])
    yield "plannerBucket", _props(data.buckets_of(plan)[0])
    full = data.task(task)
    yield "plannerTask", _props(full)
    yield "plannerAssignment", _props(next(iter(full["assignments"].values()))) if full else set()
    details = data.task_details(task) or {}
    yield "plannerTaskDetails", _props(details)
    yield "plannerChecklistItem", _props(next(iter(details["checklist"].values())))
    yield "identitySet", set(data.tasks[task]["createdBy"])
    yield "identity", set(data.tasks[task]["createdBy"]["user"])


def _props(entity: dict[str, Any] | None) -> set[str]:
    return {k for k in (entity or {}) if not k.startswith("@")}
