"""``DataverseConnector``: Planner premium / Project for the web schedules from the Dataverse Web API.

Reads ``msdyn_projects`` (all active ones, or the configured ids), and per project its
``msdyn_projecttasks`` (WBS: ``msdyn_outlinelevel``, ``msdyn_displaysequence``, parent task; scheduled
start/end, duration, effort, progress), ``msdyn_projecttaskdependencies`` (predecessor links), its
buckets (``msdyn_projectbuckets``), team (``msdyn_projectteams``) and resource assignments
(``msdyn_resourceassignments``), so tasks carry their bucket and the names of the people (or generic
resources) on them, and the project its manager's name (``systemusers``).

Two things differ between environments and are read from the environment's own metadata once per
run: whether ``msdyn_progress`` is a fraction (MaxValue 1, Project for the web) or a percent, and the
option values of ``msdyn_linktype`` (their labels, "Finish-to-Start" ..., give FS/SS/FF/SF). The
mapping can still pin either.
Tokens are for the environment's own scope (``https://<org>.crm.dynamics.com/.default``); the app
must be an *application user* of the environment with a security role that can read projects.

Like the Planner connector it reads each project in full and compares fingerprints (the row's
``@odata.etag``, its predecessors, the project link and the mapping) with the cursor's: changed tasks are
yielded, unchanged ones only marked :class:`Seen`, and ``SnapshotComplete(scope="project:<id>")``
after each project lets the engine mark deleted tasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorContext,
    Cursor,
    ExtractItem,
    Seen,
    SnapshotComplete,
)
from pmsync.connector_kit import MappingFile
from pmsync.errors import PmsyncError, SourceDataError
from pmsync.microsoft.auth import MicrosoftAppSettings
from pmsync.microsoft.changes import ScopeFingerprints, fingerprint
from pmsync.microsoft.connector_base import MicrosoftSourceConnector
from pmsync.microsoft.graph import odata_day, odata_moment
from pmsync.model import Dependency, DependencyType, Project, StatusCategory, WorkItem

SYSTEM = "dataverse"
#: bump when the normalization below changes, so the next run rewrites every record
NORMALIZATION_VERSION = 4  # 2: dates in the agency's time zone; 3: people, buckets; 4: created_at
_PROJECT_FIELDS = (
    "msdyn_projectid,msdyn_subject,msdyn_description,msdyn_scheduledstart,msdyn_finish,msdyn_progress,"
    "msdyn_effort,msdyn_effortcompleted,msdyn_effortremaining,_msdyn_projectmanager_value,modifiedon"
)
_TASK_FIELDS = (
    "msdyn_projecttaskid,msdyn_subject,_msdyn_project_value,_msdyn_parenttask_value,msdyn_outlinelevel,"
    "msdyn_displaysequence,msdyn_wbsid,msdyn_scheduledstart,msdyn_scheduledend,msdyn_duration,msdyn_effort,"
    "msdyn_effortcompleted,msdyn_effortremaining,msdyn_progress,msdyn_summary,msdyn_ismilestone,modifiedon,"
    "_msdyn_projectbucket_value,createdon"
)
_DEPENDENCY_FIELDS = "_msdyn_predecessortask_value,_msdyn_successortask_value,msdyn_linktype"


class DataverseConfig(MicrosoftAppSettings):
    """``sources[]`` block of ``type: dataverse``: the sign-in keys plus the environment to read."""

    #: the environment URL, e.g. https://contoso.crm.dynamics.com (GCC: .crm9.dynamics.com)
    environment_url: str = Field(pattern=r"^https://")
    #: project ids (msdyn_projectid); default: every active project
    project_ids: list[str] = Field(default_factory=list)
    mapping: str = "dataverse.yaml"
    #: rows per page (Prefer: odata.maxpagesize); Dataverse allows up to 5000
    page_size: int = Field(default=500, ge=1, le=5000)
    api_version: str = Field(default="v9.2", pattern=r"^v\d+\.\d+$")

    def scope(self) -> str:
        return f"{self.environment_url.rstrip('/')}/.default"


_DEFAULT_STATUS: dict[StatusCategory, str] = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Completed",
}


#: msdyn_linktype option labels (letters only, lower case) → dependency type
_LINK_LABELS: dict[str, DependencyType] = {
    "finishtostart": "FS",
    "starttostart": "SS",
    "finishtofinish": "FF",
    "starttofinish": "SF",
}

_DEFAULT_LINKS: dict[int, DependencyType] = {
    192350000: "FS",
    192350001: "SS",
    192350002: "FF",
    192350003: "SF",
}


class DataverseMapping(BaseModel):
    """``mappings/dataverse.yaml``."""

    model_config = ConfigDict(extra="forbid")

    #: how msdyn_progress is stored: ``auto`` reads the column's range from the environment's metadata
    #: (MaxValue 1: a fraction, as Project for the web keeps it; 100: a percent)
    progress_scale: Literal["auto", "fraction", "percent"] = "auto"
    #: msdyn_linktype option value → dependency type; values not listed are named from the option
    #: set's labels in the environment's metadata ("Finish-to-Start" → FS, ...)
    link_types: dict[int, DependencyType] = Field(default_factory=lambda: dict(_DEFAULT_LINKS))
    status: dict[StatusCategory, str] = Field(default_factory=lambda: dict(_DEFAULT_STATUS))
    #: project id or exact project name → pmsync project key (pmsync.yaml projects[].links come first)
    projects: dict[str, str] = Field(default_factory=dict)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class DataverseConnector(MicrosoftSourceConnector[DataverseConfig]):
    system: ClassVar[str] = SYSTEM
    Config: ClassVar[type[DataverseConfig]] = DataverseConfig
    mapping = MappingFile(DataverseMapping)
    permission_hint = (
        "add the app as an application user of the Dataverse environment (Power Platform admin "
        "center > Environments > Settings > Application users) with a security role that can "
        "read projects, e.g. Project Manager"
    )

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        #: read from the environment's metadata once per run (see _environment)
        self._scale: Literal["fraction", "percent"] | None = None
        self._links: dict[int, DependencyType] | None = None
        self._user_names: dict[str, str] = {}

    # Scheduled starts and ends are working-time instants (08:00 and 17:00 of the scheduler's day),
    # whose day is their date in the agency's zone (``self.zone``).
    def api_base(self) -> str:
        return f"{self.config.environment_url.rstrip('/')}/api/data/{self.config.api_version}"

    def api_scope(self) -> str:
        return self.config.scope()

    def default_headers(self) -> dict[str, str]:
        return {
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "Prefer": f"odata.maxpagesize={self.config.page_size}",
        }

    # -- doctor ----------------------------------------------------------------------------------
    def source_checks(self) -> list[CheckResult]:
        signed_in, token = self.sign_in_check()
        results = [signed_in]
        if token is None:
            return results
        try:
            first = next(
                self.client.pages(
                    "msdyn_projects",
                    params={"$select": "msdyn_subject"},
                    headers={"Prefer": "odata.maxpagesize=1"},
                    record="msdyn_projects",
                ),
                [],
            )
        except PmsyncError as exc:
            results.append(CheckResult("read projects", "fail", str(exc), exc.hint or ""))
            return results
        results.append(
            CheckResult(
                "read projects",
                "ok" if first else "warn",
                "can read msdyn_projects" if first else "signed in, but no project is visible to the app",
            )
        )
        return results

    # -- extract ---------------------------------------------------------------------------------
    def _projects(self) -> Iterator[dict[str, Any]]:
        if self.config.project_ids:
            for project_id in self.config.project_ids:
                yield self.client.get_json(
                    f"msdyn_projects({project_id})",
                    params={"$select": _PROJECT_FIELDS},
                    record=f"msdyn_project {project_id}",
                )
            return
        yield from self.client.items(
            "msdyn_projects",
            params={"$select": _PROJECT_FIELDS, "$filter": "statecode eq 0"},
            record="msdyn_projects",
        )

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        prints = ScopeFingerprints(cursor.get("projects"))
        mapping = self.mapping
        self._environment(mapping)
        read: set[str] = set()
        for row in self._projects():
            project_id = str(row.get("msdyn_projectid") or "")
            if not project_id:
                raise SourceDataError("a project row without msdyn_projectid", source=self.source)
            scope = f"project:{project_id}"
            read.add(scope)
            yield from self._project_records(row, scope, prints, mapping)
            yield SnapshotComplete(scope=scope)
            yield Checkpoint({"projects": prints.to_cursor()})
        if not self.config.project_ids:
            # Projects the last run read that are gone (deleted or deactivated): sweep them.
            for scope in prints.scopes():
                if scope not in read:
                    prints.drop(scope)
                    yield SnapshotComplete(scope=scope)
                    yield Checkpoint({"projects": prints.to_cursor()})

    def _predecessors(self, project_id: str, mapping: DataverseMapping) -> dict[str, list[Dependency]]:
        by_successor: dict[str, list[Dependency]] = defaultdict(list)
        for row in self.client.items(
            "msdyn_projecttaskdependencies",
            params={"$select": _DEPENDENCY_FIELDS, "$filter": f"_msdyn_project_value eq {project_id}"},
            record=f"msdyn_project {project_id} dependencies",
        ):
            successor, predecessor = (
                row.get("_msdyn_successortask_value"),
                row.get("_msdyn_predecessortask_value"),
            )
            if not successor or not predecessor:
                continue
            link = row.get("msdyn_linktype")
            links = self._links if self._links is not None else mapping.link_types
            if link not in links:
                raise SourceDataError(
                    f"msdyn_linktype {link!r} is not mapped, nor named by the environment's option set",
                    source=self.source,
                    record=f"dependency {predecessor} -> {successor}",
                    hint=f"add it to link_types in {self.config.mapping} (allowed: FS, SS, FF, SF)",
                )
            by_successor[str(successor)].append(Dependency(predecessor=str(predecessor), type=links[link]))
        return by_successor

    def _project_records(
        self, row: dict[str, Any], scope: str, prints: ScopeFingerprints, mapping: DataverseMapping
    ) -> Iterator[ExtractItem]:
        project_id = str(row["msdyn_projectid"])
        key = self.project_for(
            str(row.get("msdyn_projectid")), str(row.get("msdyn_subject")), mapped=mapping.projects
        )
        # The mapping shapes every record: editing it (or a new pmsync) must rewrite them all.
        shaping = fingerprint(
            NORMALIZATION_VERSION,
            mapping.model_dump_json(),
            key,
            self.context.time_zone,
            self._scale,
            self._links,
        )
        prints.begin(scope)
        manager = self._user_name(row.get("_msdyn_projectmanager_value"))
        if prints.changed(scope, project_id, fingerprint(row.get("@odata.etag"), shaping, manager)):
            yield Project(
                source=self.ref(project_id),
                source_modified=odata_moment(row.get("modifiedon")),
                project=key,
                scope=scope,
                key=key or project_id,
                name=str(row.get("msdyn_subject") or project_id),
                manager=manager,
                start=odata_day(row.get("msdyn_scheduledstart"), self.zone),
                finish=odata_day(row.get("msdyn_finish"), self.zone),
            )
        else:
            yield Seen("project", self.ref(project_id))
        predecessors = self._predecessors(project_id, mapping)
        buckets = self._buckets(project_id)
        people = self._assignments(project_id)
        for task in self.client.items(
            "msdyn_projecttasks",
            params={"$select": _TASK_FIELDS, "$filter": f"_msdyn_project_value eq {project_id}"},
            record=f"msdyn_project {project_id} tasks",
        ):
            task_id = str(task.get("msdyn_projecttaskid") or "")
            if not task_id:
                raise SourceDataError(
                    "a task row without msdyn_projecttaskid", source=self.source, record=scope
                )
            links = tuple(sorted(predecessors.get(task_id, []), key=lambda d: (d.predecessor, d.type)))
            bucket = buckets.get(str(task.get("_msdyn_projectbucket_value") or ""))
            on_task = tuple(people.get(task_id, ()))
            # Assignments and bucket names are rows of their own: a change there leaves the task's etag.
            print_ = fingerprint(
                task.get("@odata.etag"), shaping, [(d.predecessor, d.type) for d in links], bucket, on_task
            )
            if prints.changed(scope, task_id, print_):
                yield self.work_item(
                    task, links, project=key, scope=scope, mapping=mapping, bucket=bucket, resources=on_task
                )
            else:
                yield Seen("work_item", self.ref(task_id))
        prints.complete(scope)

    def work_item(
        self,
        task: dict[str, Any],
        predecessors: tuple[Dependency, ...],
        *,
        project: str | None,
        scope: str,
        mapping: DataverseMapping,
        bucket: str | None = None,
        resources: tuple[str, ...] = (),
    ) -> WorkItem:
        task_id = str(task["msdyn_projecttaskid"])
        percent = self._percent(task.get("msdyn_progress"), task_id, mapping)
        category: StatusCategory = (
            "done" if percent is not None and percent >= 100 else "in_progress" if percent else "not_started"
        )
        if task.get("msdyn_summary"):
            kind = "summary"
        elif task.get("msdyn_ismilestone"):
            kind = "milestone"
        else:
            kind = "task"
        level = task.get("msdyn_outlinelevel")
        sequence = _number(task.get("msdyn_displaysequence"))
        return WorkItem(
            source=self.ref(task_id),
            source_modified=odata_moment(task.get("modifiedon")),
            # valid time: a report for an earlier status date leaves out tasks created after it
            created_at=odata_moment(task.get("createdon")),
            project=project,
            scope=scope,
            name=str(task.get("msdyn_subject") or task_id),
            kind=kind,
            parent=task.get("_msdyn_parenttask_value") or None,
            wbs=task.get("msdyn_wbsid") or None,
            outline_level=level if isinstance(level, int) else None,
            status=mapping.status.get(category, category),
            status_category=category,
            start=odata_day(task.get("msdyn_scheduledstart"), self.zone),
            finish=odata_day(task.get("msdyn_scheduledend"), self.zone),
            duration_days=_number(task.get("msdyn_duration")),
            percent_complete=percent,
            effort_estimate_hours=_number(task.get("msdyn_effort")),
            effort_actual_hours=_number(task.get("msdyn_effortcompleted")),
            effort_remaining_hours=_number(task.get("msdyn_effortremaining")),
            predecessors=predecessors,
            assignee=resources[0] if resources else None,
            resources=resources,
            labels=(bucket,) if bucket else (),
            custom={"display_sequence": sequence, "bucket": bucket},
        )

    # -- the environment, people and buckets ---------------------------------------------------------
    def _environment(self, mapping: DataverseMapping) -> None:
        """Read what differs between environments from their metadata: msdyn_progress's range and
        msdyn_linktype's option labels. The mapping pins either when it says so."""
        base = "EntityDefinitions(LogicalName='{}')/Attributes(LogicalName='{}')/Microsoft.Dynamics.CRM.{}"
        self._scale = None if mapping.progress_scale == "auto" else mapping.progress_scale
        if self._scale is None:
            progress = self.client.get_json(
                base.format("msdyn_projecttask", "msdyn_progress", "DecimalAttributeMetadata"),
                params={"$select": "LogicalName,MinValue,MaxValue"},
                record="msdyn_progress metadata",
            )
            self._scale = "fraction" if float(progress.get("MaxValue") or 100) <= 1 else "percent"
        options = self.client.get_json(
            base.format("msdyn_projecttaskdependency", "msdyn_linktype", "PicklistAttributeMetadata"),
            params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
            record="msdyn_linktype metadata",
        )
        named: dict[int, DependencyType] = {}
        for option in (options.get("OptionSet") or {}).get("Options") or []:
            label = ((option.get("Label") or {}).get("UserLocalizedLabel") or {}).get("Label")
            kind = _LINK_LABELS.get("".join(ch for ch in str(label).lower() if ch.isalpha()))
            if isinstance(option.get("Value"), int) and kind is not None:
                named[option["Value"]] = kind
        # The mapping's entries win: they say what this agency means by a value.
        self._links = {**named, **mapping.link_types}

    def _user_name(self, user_id: Any) -> str | None:
        """A systemuser's full name (cached for the run); its id when the user cannot be read."""
        if not user_id:
            return None
        key = str(user_id)
        if key not in self._user_names:
            row = self.client.get_optional(
                f"systemusers({key})", params={"$select": "fullname"}, record=f"systemuser {key}"
            )
            self._user_names[key] = str((row or {}).get("fullname") or key)
        return self._user_names[key]

    def _buckets(self, project_id: str) -> dict[str, str]:
        return {
            str(row["msdyn_projectbucketid"]): str(row.get("msdyn_name") or "")
            for row in self.client.items(
                "msdyn_projectbuckets",
                params={
                    "$select": "msdyn_projectbucketid,msdyn_name",
                    "$filter": f"_msdyn_project_value eq {project_id}",
                },
                record=f"msdyn_project {project_id} buckets",
            )
            if row.get("msdyn_projectbucketid")
        }

    def _assignments(self, project_id: str) -> dict[str, list[str]]:
        """Task id → the names of the team members assigned to it (people or generic resources),
        from the project's team and its resource assignments: two paged reads per project."""
        team = {
            str(row["msdyn_projectteamid"]): str(row.get("msdyn_name") or row["msdyn_projectteamid"])
            for row in self.client.items(
                "msdyn_projectteams",
                params={
                    "$select": "msdyn_projectteamid,msdyn_name",
                    "$filter": f"_msdyn_project_value eq {project_id}",
                },
                record=f"msdyn_project {project_id} team",
            )
            if row.get("msdyn_projectteamid")
        }
        on_task: dict[str, list[str]] = defaultdict(list)
        for row in self.client.items(
            "msdyn_resourceassignments",
            params={
                "$select": "_msdyn_taskid_value,_msdyn_projectteamid_value",
                "$filter": f"_msdyn_projectid_value eq {project_id}",
            },
            record=f"msdyn_project {project_id} resource assignments",
        ):
            task, member = row.get("_msdyn_taskid_value"), row.get("_msdyn_projectteamid_value")
            if task and member:
                on_task[str(task)].append(team.get(str(member), str(member)))
        return {task: sorted(names) for task, names in on_task.items()}

    def _percent(self, value: Any, task_id: str, mapping: DataverseMapping) -> float | None:
        progress = _number(value)
        if progress is None:
            return None
        scale = self._scale or ("percent" if mapping.progress_scale == "percent" else "fraction")
        percent = progress * 100 if scale == "fraction" else progress
        if not 0 <= percent <= 100:
            raise SourceDataError(
                f"msdyn_progress {value!r} is outside the {scale} range",
                source=self.source,
                record=f"msdyn_projecttask {task_id}",
                hint=f"set progress_scale in {self.config.mapping} to match how the environment stores it",
            )
        return round(percent, 4)
