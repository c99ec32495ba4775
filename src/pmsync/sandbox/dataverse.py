"""The sandbox Dataverse Web API (Planner premium / Project for the web) for project schedules.

Routes, under ``/api/data/v9.2/``: ``msdyn_projects``, ``msdyn_projecttasks``,
``msdyn_projecttaskdependencies`` (collections) and ``<set>(<guid>)`` (one row). Supported query
options: ``$select``, ``$filter`` with ``eq`` clauses joined by ``and``, and server paging driven by
``Prefer: odata.maxpagesize=N`` (answered with ``Preference-Applied`` and an ``@odata.nextLink`` holding
a ``$skiptoken``), as Dataverse pages. Each row carries ``@odata.etag`` (its row version).

Tokens must be issued for the environment URL (``https://<org>.crm.dynamics.com/.default`` in real
life, the sandbox URL here), and the app must be an *application user* of the environment, otherwise
Dataverse answers 403 with its privilege error. ``msdyn_progress`` is a fraction (0..1) unless
``progress_max`` is 100 (an environment customised to keep percents); either way the column's
metadata (``EntityDefinitions(LogicalName='msdyn_projecttask')/Attributes(LogicalName='msdyn_progress')``)
says which, as does ``msdyn_linktype``'s option set for dependency link types (``link_labels``).
Beyond the schedule it serves the people around it: ``systemusers`` (the project manager),
``bookableresources``, ``msdyn_projectteams`` (team members) and ``msdyn_resourceassignments`` (who
works on which task), and ``msdyn_projectbuckets``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from pmsync import clock
from pmsync.sandbox.dataverse_people import LINK_LABELS, ProjectPeople
from pmsync.sandbox.faults import WSGIApp
from pmsync.sandbox.identity import IdentityState, InvalidBearer

API_PREFIX = "/api/data/v9.2/"
ENTITY_SETS = {
    "msdyn_projects": ("msdyn_project", "msdyn_projectid"),
    "msdyn_projecttasks": ("msdyn_projecttask", "msdyn_projecttaskid"),
    "msdyn_projecttaskdependencies": ("msdyn_projecttaskdependency", "msdyn_projecttaskdependencyid"),
    "msdyn_projectbuckets": ("msdyn_projectbucket", "msdyn_projectbucketid"),
    "msdyn_projectteams": ("msdyn_projectteam", "msdyn_projectteamid"),
    "msdyn_resourceassignments": ("msdyn_resourceassignment", "msdyn_resourceassignmentid"),
    "bookableresources": ("bookableresource", "bookableresourceid"),
    "systemusers": ("systemuser", "systemuserid"),
}
#: the option labels of msdyn_linktype, as the environment's metadata names them
_METADATA = re.compile(
    r"^EntityDefinitions\(LogicalName='(?P<entity>\w+)'\)/Attributes\(LogicalName='(?P<attribute>\w+)'\)"
    r"(?:/Microsoft\.Dynamics\.CRM\.(?P<cast>\w+))?$"
)
#: msdyn_linktype option values (Finish-to-Start etc.) as the sandbox stores them
LINK_TYPES = {"FS": 192350000, "SS": 192350001, "FF": 192350002, "SF": 192350003}
MAX_PAGE = 5000  # Dataverse's own maximum page size


def dataverse_error_body(status: int) -> dict[str, Any]:
    """Bodies for injected faults, shaped as Dataverse's OData errors."""
    if status == 429:
        return {
            "error": {
                "code": "0x80072322",
                "message": "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
            }
        }
    return {"error": {"code": "0x80040216", "message": "An unexpected error occurred."}}


def _error(status: int, code: str, message: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return _json(status, {"error": {"code": code, "message": message}}, headers)


def _json(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=[("OData-Version", "4.0"), ("REQ_ID", str(uuid.uuid4())), *headers],
        content_type="application/json; odata.metadata=minimal",
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DataverseState(ProjectPeople):
    """Rows per entity set, the application users allowed in, and paging size."""

    def __init__(self, identity: IdentityState, *, page_size: int = 100) -> None:
        self.identity = identity
        self.page_size = page_size
        self.base_url = ""
        #: client ids with an application user (and a security role that can read projects)
        self.application_users: set[str] = set()
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in ENTITY_SETS}
        #: msdyn_progress's range in this environment: 1 (a fraction, Project for the web) or 100 (an
        #: environment customised to keep percents); the column's metadata says which
        self.progress_max = 1.0
        #: msdyn_linktype option value → label, as the environment's option set defines them
        self.link_labels: dict[int, str] = dict(LINK_LABELS)
        self._version = 1_000_000
        self._lock = threading.RLock()

    def _stamp(self, row: dict[str, Any]) -> dict[str, Any]:
        self._version += 1
        row["versionnumber"] = self._version
        row["modifiedon"] = _when(clock.now())
        return row

    def add_project(
        self,
        name: str,
        *,
        start: date,
        finish: date,
        progress: float = 0.0,
        effort: float = 0.0,
        effort_completed: float = 0.0,
        manager: str | None = None,
        project_id: str | None = None,
        description: str | None = None,
    ) -> str:
        project_id = project_id or str(uuid.uuid4())
        with self._lock:
            self.rows["msdyn_projects"][project_id] = self._stamp(
                {
                    "msdyn_projectid": project_id,
                    "msdyn_subject": name,
                    "msdyn_description": description,
                    "msdyn_scheduledstart": _when(datetime.combine(start, datetime.min.time(), UTC)),
                    "msdyn_finish": _when(
                        datetime.combine(finish, datetime.min.time(), UTC) + timedelta(hours=17)
                    ),
                    "msdyn_progress": progress,
                    "msdyn_effort": effort,
                    "msdyn_effortcompleted": effort_completed,
                    "msdyn_effortremaining": max(0.0, effort - effort_completed),
                    "_msdyn_projectmanager_value": manager,
                    "statecode": 0,
                    "createdon": _when(clock.now()),
                }
            )
        return project_id

    def add_task(
        self,
        project_id: str,
        name: str,
        *,
        outline_level: int,
        sequence: float,
        start: date,
        finish: date,
        progress: float = 0.0,
        effort: float = 0.0,
        parent: str | None = None,
        summary: bool = False,
        milestone: bool = False,
        task_id: str | None = None,
        wbs: str | None = None,
        bucket: str | None = None,
    ) -> str:
        task_id = task_id or str(uuid.uuid4())
        with self._lock:
            self.rows["msdyn_projecttasks"][task_id] = self._stamp(
                {
                    "msdyn_projecttaskid": task_id,
                    "msdyn_subject": name,
                    "_msdyn_project_value": project_id,
                    "_msdyn_parenttask_value": parent,
                    "msdyn_outlinelevel": outline_level,
                    "msdyn_displaysequence": sequence,
                    "msdyn_wbsid": wbs,
                    "msdyn_scheduledstart": _when(
                        datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=8)
                    ),
                    "msdyn_scheduledend": _when(
                        datetime.combine(finish, datetime.min.time(), UTC) + timedelta(hours=17)
                    ),
                    "msdyn_duration": float((finish - start).days + 1),
                    "msdyn_effort": effort,
                    "msdyn_effortcompleted": round(effort * progress, 2),
                    "msdyn_effortremaining": round(effort * (1 - progress), 2),
                    "msdyn_progress": round(progress * self.progress_max, 4),
                    "msdyn_summary": summary,
                    "_msdyn_projectbucket_value": bucket,
                    "msdyn_ismilestone": milestone,
                    "statecode": 0,
                    "createdon": _when(clock.now()),
                }
            )
        return task_id

    def add_dependency(self, project_id: str, predecessor: str, successor: str, link: str = "FS") -> str:
        dep_id = str(uuid.uuid4())
        with self._lock:
            self.rows["msdyn_projecttaskdependencies"][dep_id] = self._stamp(
                {
                    "msdyn_projecttaskdependencyid": dep_id,
                    "_msdyn_project_value": project_id,
                    "_msdyn_predecessortask_value": predecessor,
                    "_msdyn_successortask_value": successor,
                    "msdyn_linktype": LINK_TYPES[link],
                }
            )
        return dep_id

    def update(self, entity_set: str, row_id: str, **changes: Any) -> None:
        with self._lock:
            row = self.rows[entity_set][row_id]
            for key, value in changes.items():
                if key not in row:
                    raise KeyError(key)
                row[key] = value
            self._stamp(row)

    def delete(self, entity_set: str, row_id: str) -> None:
        """Delete a row; like Dataverse's cascade, a task's dependencies and a project's tasks go too."""
        with self._lock:
            del self.rows[entity_set][row_id]
            if entity_set == "msdyn_projects":
                for child_set in ("msdyn_projecttasks", "msdyn_projecttaskdependencies"):
                    rows = self.rows[child_set]
                    for child in [k for k, v in rows.items() if v["_msdyn_project_value"] == row_id]:
                        del rows[child]
            elif entity_set == "msdyn_projecttasks":
                deps = self.rows["msdyn_projecttaskdependencies"]
                for dep in [
                    k
                    for k, v in deps.items()
                    if row_id in (v["_msdyn_predecessortask_value"], v["_msdyn_successortask_value"])
                ]:
                    del deps[dep]

    def seed_demo(self, today: date | None = None) -> str:
        """One Project for the web schedule with a WBS, effort, progress and dependencies."""
        today = today or clock.now().date()
        start = today - timedelta(days=45)
        project = self.add_project(
            "Grants Portal Replatform",
            start=start,
            finish=start + timedelta(days=120),
            progress=0.35,
            effort=1240.0,
            effort_completed=430.0,
            project_id="6d3f0a1e-2b4c-4d5e-8f9a-0b1c2d3e4f5a",
            description="Move the grants portal to the agency's cloud platform.",
        )
        phases = [
            (
                "Plan",
                0,
                20,
                1.0,
                [("Charter approved", 0, 5, 1.0, 16), ("Architecture decision", 5, 20, 1.0, 60)],
            ),
            (
                "Build",
                20,
                80,
                0.3,
                [
                    ("Identity integration", 20, 45, 0.8, 120),
                    ("Forms engine", 25, 70, 0.25, 300),
                    ("Reporting", 45, 80, 0.0, 160),
                ],
            ),
            (
                "Release",
                80,
                120,
                0.0,
                [("User acceptance", 80, 100, 0.0, 200), ("Go-live", 120, 120, 0.0, 0)],
            ),
        ]
        people = [
            self.add_user("Pat Morgan", "pat.morgan@agency-sandbox.onmicrosoft.com"),
            self.add_user("Lee Chen", "lee.chen@agency-sandbox.onmicrosoft.com"),
            self.add_user("Sam Okafor", "sam.okafor@agency-sandbox.onmicrosoft.com"),
        ]
        self.update("msdyn_projects", project, _msdyn_projectmanager_value=people[0])
        resources = [
            next(r for r, v in self.rows["bookableresources"].items() if v["_userid_value"] == u)
            for u in people
        ]
        resources.append(self.add_generic_resource("Contractor - forms developer"))
        team = [self.add_team_member(project, r) for r in resources]
        buckets = {name: self.add_bucket(project, name) for name in ("Governance", "Delivery")}
        sequence = 1.0
        previous: str | None = None
        for p_index, (phase, p_start, p_end, p_progress, tasks) in enumerate(phases, start=1):
            summary = self.add_task(
                project,
                phase,
                outline_level=1,
                sequence=sequence,
                start=start + timedelta(days=p_start),
                finish=start + timedelta(days=p_end),
                progress=p_progress,
                effort=float(sum(t[4] for t in tasks)),
                summary=True,
                wbs=str(p_index),
                task_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{phase}")),
            )
            sequence += 1
            for t_index, (name, t_start, t_end, t_progress, effort) in enumerate(tasks, start=1):
                task = self.add_task(
                    project,
                    name,
                    outline_level=2,
                    sequence=sequence,
                    start=start + timedelta(days=t_start),
                    finish=start + timedelta(days=t_end),
                    progress=t_progress,
                    effort=float(effort),
                    parent=summary,
                    milestone=effort == 0,
                    wbs=f"{p_index}.{t_index}",
                    task_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{phase}/{name}")),
                    bucket=buckets["Governance" if phase == "Plan" else "Delivery"],
                )
                sequence += 1
                if effort:
                    self.assign(project, task, team[(p_index + t_index) % len(team)])
                    if name == "Forms engine":
                        self.assign(project, task, team[3])
                if previous is not None:
                    self.add_dependency(project, previous, task, "FS")
                previous = task
        return project

    def seed_bulk(self, *, projects: int, tasks_per_project: int) -> list[str]:
        ids = []
        start = date(2026, 1, 5)
        for p in range(projects):
            project = self.add_project(f"Bulk project {p}", start=start, finish=start + timedelta(days=200))
            for t in range(tasks_per_project):
                self.add_task(
                    project,
                    f"Task {p}.{t}",
                    outline_level=1,
                    sequence=float(t + 1),
                    start=start + timedelta(days=t % 150),
                    finish=start + timedelta(days=t % 150 + 9),
                    progress=(0.0, 0.5, 1.0)[t % 3],
                    effort=40.0,
                )
            ids.append(project)
        return ids


_ROW = re.compile(r"^(?P<set>\w+)\((?P<id>[0-9a-fA-F-]{36})\)$")
_CLAUSE = re.compile(
    r"^\s*(?P<field>\w+)\s+eq\s+(?P<value>'[^']*'|[0-9a-fA-F-]{36}|-?[\d.]+|null|true|false)\s*$"
)


def _parse_filter(text: str) -> list[tuple[str, Any]] | None:
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()) if text.strip() else []:
        match = _CLAUSE.match(part)
        if match is None:
            return None
        raw = match.group("value")
        value: Any
        if raw.startswith("'"):
            value = raw[1:-1]
        elif raw in ("null", "true", "false"):
            value = {"null": None, "true": True, "false": False}[raw]
        elif re.fullmatch(r"-?[\d.]+", raw):
            value = float(raw) if "." in raw else int(raw)
        else:
            value = raw.lower()
        clauses.append((match.group("field"), value))
    return clauses


def _matches(row: dict[str, Any], clauses: list[tuple[str, Any]]) -> bool:
    for field, value in clauses:
        actual = row.get(field)
        if isinstance(actual, str) and isinstance(value, str):
            if actual.lower() != value.lower():
                return False
        elif actual != value:
            return False
    return True


def _shape(row: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    body = {"@odata.etag": f'W/"{row["versionnumber"]}"'}
    body.update({k: v for k, v in row.items() if select is None or k in select})
    return body


def make_dataverse_app(state: DataverseState, base_url: Callable[[], str]) -> WSGIApp:
    """The Dataverse Web API as a WSGI app."""

    def handle(request: Request) -> Response:
        root = base_url()
        state.base_url = root
        try:
            claims = state.identity.check_bearer(request.headers.get("Authorization"), {root})
        except InvalidBearer as exc:
            challenge = (
                f"Bearer authorization_uri=https://login.microsoftonline.com/{state.identity.tenant_id}/oauth2/"
                f"authorize, resource_id={root}/"
            )
            return _error(401, "0x80072243", exc.message, [("WWW-Authenticate", challenge)])
        if not request.path.startswith(API_PREFIX):
            return _error(404, "0x8006088a", f"Resource not found for the segment '{request.path}'.")
        segment = request.path[len(API_PREFIX) :]
        metadata = _METADATA.match(segment)
        if metadata is not None:
            found = state.attribute_metadata(
                metadata["entity"], metadata["attribute"], request.args.get("$expand", "")
            )
            if found is None:
                return _error(404, "0x80040217", f"Could not find attribute {metadata['attribute']}")
            context = (
                f"{root}{API_PREFIX}$metadata#EntityDefinitions('{metadata['entity']}')/Attributes/$entity"
            )
            return _json(200, {"@odata.context": context, **found})
        row_match = _ROW.match(segment)
        entity_set = row_match.group("set") if row_match else segment
        if entity_set not in ENTITY_SETS:
            return _error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        logical, _key = ENTITY_SETS[entity_set]
        if claims.app_id not in state.application_users and claims.user is None:
            return _error(
                403,
                "0x80040220",
                f"Principal user (Id={claims.raw.get('oid')}, type=8, roleCount=0), is missing "
                f"prvRead{logical} privilege (Id={uuid.uuid5(uuid.NAMESPACE_OID, logical)}) "
                f"on OTC=10000 for entity '{logical}'. Consider assigning a role with the required "
                "privilege to the user.",
            )
        if request.method != "GET":
            return _error(405, "0x80060888", "Only GET is supported by the sandbox.")
        select = request.args.get("$select")
        fields = [f.strip() for f in select.split(",")] if select else None
        with state._lock:  # noqa: SLF001 - a consistent snapshot of the rows
            rows = state.rows[entity_set]
            if row_match:
                row = rows.get(row_match.group("id").lower())
                if row is None:
                    return _error(
                        404, "0x80040217", f"{logical} With Id = {row_match.group('id')} Does Not Exist"
                    )
                return _json(
                    200,
                    {
                        "@odata.context": f"{root}{API_PREFIX}$metadata#{entity_set}/$entity",
                        **_shape(row, fields),
                    },
                )
            clauses = _parse_filter(request.args.get("$filter", ""))
            if clauses is None:
                return _error(
                    400, "0x80060888", "The sandbox supports only 'field eq value' filters joined by 'and'."
                )
            matching = [_shape(r, fields) for r in rows.values() if _matches(r, clauses)]
        return _page(request, root, entity_set, matching, state.page_size)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return handle(Request(environ))(environ, start_response)

    return app


def _page(request: Request, root: str, entity_set: str, rows: list[dict[str, Any]], default: int) -> Response:
    size = default
    headers: list[tuple[str, str]] = []
    prefer = request.headers.get("Prefer", "")
    match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    if match:
        size = max(1, min(int(match.group(1)), MAX_PAGE))
        headers.append(("Preference-Applied", f"odata.maxpagesize={size}"))
    offset = 0
    token = request.args.get("$skiptoken")
    if token:
        page_match = re.search(r'pagenumber="(\d+)"', token)
        offset = (int(page_match.group(1)) - 1) * size if page_match else 0
    body: dict[str, Any] = {
        "@odata.context": f"{root}{API_PREFIX}$metadata#{entity_set}",
        "value": rows[offset : offset + size],
    }
    if offset + size < len(rows):
        page = offset // size + 2
        # Dataverse's skiptoken is a paging cookie (XML); the client must use the link as given.
        cookie = (
            f'<cookie pagenumber="{page}" pagingcookie="{base64.b64encode(str(offset).encode()).decode()}" />'
        )
        args = {k: v for k, v in request.args.items() if k != "$skiptoken"}
        query = urlencode(args, quote_via=quote)
        link = f"{root}{request.path}?{query + '&' if query else ''}$skiptoken={quote(cookie)}"
        body["@odata.nextLink"] = link
    return _json(200, body, headers)
