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
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from pmsync import clock
from pmsync.sandbox.faults import WSGIApp
from pmsync.sandbox.graph_planner_data import PlannerData
from pmsync.sandbox.graph_wire import GraphState, graph_error, graph_json, require_roles

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
    def handle(request: Request) -> Response:
        found = next(((n, m) for n, p in _ROUTES if (m := p.match(request.path))), None)
        if found is None:
            return graph_error(400, "BadRequest", f"Resource not found for the segment '{request.path}'.")
        name, match = found
        writing = request.method == "PATCH"
        if request.method not in ("GET", "PATCH") or (writing and name != "task"):
            return graph_error(405, "BadRequest", f"The HTTP method '{request.method}' is not allowed.")
        claims = require_roles(request, state, PLANNER_WRITE if writing else PLANNER_READ)
        if isinstance(claims, Response):
            return claims
        return _answer(state, request, name, match.group("id"))

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return handle(Request(environ))(environ, start_response)

    return app


def _not_found(kind: str, entity_id: str) -> Response:
    if kind == "group":
        return graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{entity_id}' does not exist or one of its queried reference-property objects "
            "are not present.",
        )
    return graph_error(404, "", "The requested item is not found.")


def _answer(state: GraphState, request: Request, route: str, entity_id: str) -> Response:
    """The answer to an authorized request on ``route`` (a name from ``_ROUTES``)."""
    data = state.planner
    if route == "group_plans":
        plans = data.plans_of(entity_id)
        if plans is None:
            return _not_found("group", entity_id)
        return graph_json(200, _page(state, request, plans, "planner/plans"))
    if route == "plan_details":
        details = data.details_of_plan(entity_id)
        if details is None:
            return _not_found("plan", entity_id)
        context = "https://graph.microsoft.com/v1.0/$metadata#planner/plans('{}')/details/$entity"
        return graph_json(200, {"@odata.context": context.format(entity_id), **details})
    if route in ("plan", "plan_buckets", "plan_tasks"):
        return _answer_plan(state, request, route, entity_id)
    if route == "task_details":
        details = data.task_details(entity_id)
        return _not_found("task", entity_id) if details is None else graph_json(200, details)
    task = data.task(entity_id)
    if task is None:
        return _not_found("task", entity_id)
    if request.method == "PATCH":
        return _patch_task(request, data, task, graph_error, graph_json)
    return graph_json(200, task)


def _answer_plan(state: GraphState, request: Request, route: str, plan_id: str) -> Response:
    data = state.planner
    plan = data.plan(plan_id)
    if plan is None:
        return _not_found("plan", plan_id)
    if route == "plan":
        body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#planner/plans/$entity"}
        return graph_json(200, {**body, **plan})
    items = data.buckets_of(plan_id) if route == "plan_buckets" else data.tasks_of(plan_id)
    what = "buckets" if route == "plan_buckets" else "tasks"
    return graph_json(200, _page(state, request, items, f"planner/plans('{plan_id}')/{what}"))


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
