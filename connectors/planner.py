"""``PlannerConnector``: Microsoft Planner (basic plans) through Microsoft Graph v1.0.

Reads plans (those of the configured Microsoft 365 groups, and/or plan ids), their buckets, tasks,
task details (checklists) and assignments. Graph v1.0 has no Planner delta query, so every run reads
each plan's task list in full and compares fingerprints (the task's ``@odata.etag`` plus its bucket's
name, the plan's project link and the mapping) with the cursor's:

- a changed or new task is yielded as a :class:`WorkItem` with its details, fetched 20 at a time in a
  Graph JSON batch;
- an unchanged task is yielded as :class:`Seen` (no details request, nothing rewritten);
- after each plan, ``SnapshotComplete(scope="plan:<id>")`` lets the engine mark deleted tasks, then a
  ``Checkpoint`` commits that plan; a plan that disappeared from its group is swept as a whole.

Task details have their own etag that Graph does not fold into the task's; a description or checklist
edit that does not change the task itself is picked up at the task's next change (or with
``refresh_details: true``, which re-reads every task's details each run).

Planner has no costs, effort or baselines: pmsync's own baselines carry them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmsync.connector import Checkpoint, CheckResult, Cursor, ExtractItem, Seen, SnapshotComplete
from pmsync.connector_kit import MappingFile
from pmsync.errors import PmsyncError, SourceDataError
from pmsync.microsoft.auth import MicrosoftAppSettings
from pmsync.microsoft.changes import ScopeFingerprints, fingerprint
from pmsync.microsoft.checks import missing_permission
from pmsync.microsoft.connector_base import MicrosoftSourceConnector
from pmsync.microsoft.graph import BATCH_LIMIT, date_only_day, odata_day, odata_moment
from pmsync.microsoft.people import GraphPeople
from pmsync.model import Issue, Project, Risk, StatusCategory, WorkItem

SYSTEM = "planner"
PLANNER_PERMISSIONS = ("Tasks.Read.All", "Tasks.ReadWrite.All")
#: reading assignees' names (the first is the one to ask for)
PEOPLE_PERMISSIONS = ("User.ReadBasic.All", "User.Read.All", "Directory.Read.All")
#: bump when the normalization below changes, so the next run rewrites every record
NORMALIZATION_VERSION = 4  # 2: dates in the agency time zone; 3: people and labels by name; 4: created_at


class PlannerConfig(MicrosoftAppSettings):
    """``sources[]`` block of ``type: planner``: the sign-in keys plus which plans to read."""

    #: Microsoft 365 group ids whose plans are all read
    group_ids: list[str] = Field(default_factory=list)
    #: individual plan ids
    plan_ids: list[str] = Field(default_factory=list)
    mapping: str = "planner.yaml"
    #: re-read every task's details (checklist, description) each run, not only changed tasks'
    refresh_details: bool = False

    @model_validator(mode="after")
    def _some_plans(self) -> PlannerConfig:
        if not self.group_ids and not self.plan_ids:
            raise ValueError("give group_ids (Microsoft 365 groups whose plans to read) or plan_ids")
        return self


LabelRole = Literal["tag", "risk", "issue", "ignore"]

_DEFAULT_STATUS: dict[StatusCategory, str] = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Completed",
}


class PlannerMapping(BaseModel):
    """``mappings/planner.yaml``."""

    model_config = ConfigDict(extra="forbid")

    #: status name per category; a task is not started at 0 %, done at 100 %, in progress between
    status: dict[StatusCategory, str] = Field(default_factory=lambda: dict(_DEFAULT_STATUS))
    #: priority label for Planner priorities up to each bound (0-10; Planner shows 1, 3, 5, 9)
    priority: dict[str, int] = Field(
        default_factory=lambda: {"Urgent": 1, "Important": 4, "Medium": 7, "Low": 10}
    )
    #: plan id or exact plan title → pmsync project key (pmsync.yaml projects[].links come first)
    projects: dict[str, str] = Field(default_factory=dict)
    #: tasks whose title starts with one of these are milestones
    milestone_prefixes: list[str] = Field(default_factory=list)
    #: Planner label name → what it marks: ``tag`` (a label on the work item, the default for labels
    #: not listed), ``risk`` or ``issue`` (the task is also a RAID risk / issue), ``ignore``
    labels: dict[str, LabelRole] = Field(default_factory=dict)


class PlannerConnector(MicrosoftSourceConnector[PlannerConfig]):
    system: ClassVar[str] = SYSTEM
    Config: ClassVar[type[PlannerConfig]] = PlannerConfig
    mapping = MappingFile(PlannerMapping)
    permissions = PLANNER_PERMISSIONS
    permission_hint = (
        f"the app needs the Microsoft Graph application permission {PLANNER_PERMISSIONS[0]} "
        "with admin consent (and, for delegated sign-in, membership of the plan's group)"
    )

    # -- doctor ----------------------------------------------------------------------------------
    def source_checks(self) -> list[CheckResult]:
        signed_in, token = self.sign_in_check()
        results = [signed_in]
        if token is None or signed_in.status != "ok":
            return results
        lacking = missing_permission(token, PEOPLE_PERMISSIONS)
        results.append(
            CheckResult(
                "people names",
                "warn" if lacking else "ok",
                f"{lacking}; assignees will be shown by id" if lacking else "user profiles can be read",
                f"Entra admin center > App registrations > {self.config.client_id} > API permissions"
                if lacking
                else "",
            )
        )
        try:
            plans = list(self._plans())
        except PmsyncError as exc:
            results.append(CheckResult("plans", "fail", str(exc), exc.hint or ""))
            return results
        titles = ", ".join(str(p.get("title")) for p in plans[:5])
        more = f" and {len(plans) - 5} more" if len(plans) > 5 else ""
        results.append(
            CheckResult("plans", "ok" if plans else "warn", f"{len(plans)} plan(s): {titles}{more}")
        )
        return results

    # -- extract ---------------------------------------------------------------------------------
    def _plans(self) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        for group in self.config.group_ids:
            for plan in self.client.items(f"groups/{group}/planner/plans", record=f"group {group}"):
                if plan.get("id") and plan["id"] not in seen:
                    seen.add(plan["id"])
                    yield plan
        for plan_id in self.config.plan_ids:
            if plan_id not in seen:
                seen.add(plan_id)
                yield self.client.get_json(f"planner/plans/{plan_id}", record=f"plan {plan_id}")

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        prints = ScopeFingerprints(cursor.get("plans"))
        self.people = GraphPeople(self.client, source=self.source)  # names cached for this run
        mapping = self.mapping
        read: set[str] = set()
        for plan in self._plans():
            plan_id = str(plan["id"])
            scope = f"plan:{plan_id}"
            read.add(scope)
            yield from self._plan_records(plan, scope, prints, mapping)
            yield SnapshotComplete(scope=scope)
            yield Checkpoint({"plans": prints.to_cursor()})
        # Plans the last run read that no longer exist (deleted, or their group dropped from config):
        # an empty snapshot of their scope marks their records deleted.
        for scope in prints.scopes():
            if scope not in read:
                prints.drop(scope)
                yield SnapshotComplete(scope=scope)
                yield Checkpoint({"plans": prints.to_cursor()})

    def _plan_records(
        self, plan: dict[str, Any], scope: str, prints: ScopeFingerprints, mapping: PlannerMapping
    ) -> Iterator[ExtractItem]:
        plan_id = str(plan["id"])
        project = self.project_for(str(plan.get("id")), str(plan.get("title")), mapped=mapping.projects)
        # The mapping shapes every record: editing it (or a new pmsync) must rewrite them all.
        # The plan's label names shape its tasks too: renaming a label rewrites them.
        plan_details = self.client.get_json(
            f"planner/plans/{plan_id}/details", record=f"plan {plan_id} details"
        )
        label_names = {
            str(key): str(value)
            for key, value in (plan_details.get("categoryDescriptions") or {}).items()
            if isinstance(value, str) and value and not str(key).startswith("@")
        }
        shaping = fingerprint(
            NORMALIZATION_VERSION, mapping.model_dump_json(), project, self.context.time_zone, label_names
        )
        prints.begin(scope)
        plan_ref = self.ref(plan_id)
        if prints.changed(scope, plan_id, fingerprint(plan.get("@odata.etag"), plan.get("title"), shaping)):
            yield Project(
                source=plan_ref,
                source_modified=odata_moment(plan.get("createdDateTime")),
                project=project,
                scope=scope,
                key=project or plan_id,
                name=str(plan.get("title") or plan_id),
            )
        else:
            yield Seen("project", plan_ref)
        buckets = {
            str(b["id"]): str(b.get("name") or "")
            for b in self.client.items(f"planner/plans/{plan_id}/buckets", record=f"plan {plan_id} buckets")
        }
        # Changed tasks wait here until 20 of them can fetch their details in one Graph batch.
        changed: list[tuple[dict[str, Any], str]] = []

        def flush() -> Iterator[ExtractItem]:
            paths = [f"planner/tasks/{task['id']}/details" for task, _ in changed]
            details = dict(self.client.get_batch(paths, record=f"plan {plan_id} task details"))
            self.people.resolve(user for task, _ in changed for user in task.get("assignments") or {})
            for (task, bucket), path in zip(changed, paths, strict=True):
                item = self.work_item(
                    task,
                    details[path],
                    bucket=bucket,
                    project=project,
                    scope=scope,
                    mapping=mapping,
                    label_names=label_names,
                )
                yield item
                yield from self.raid_records(task, item, label_names, mapping)
            changed.clear()

        for task in self.client.items(f"planner/plans/{plan_id}/tasks", record=f"plan {plan_id} tasks"):
            task_id = task.get("id")
            if not task_id:
                raise SourceDataError("a task without an id", source=self.source, record=f"plan {plan_id}")
            bucket = buckets.get(str(task.get("bucketId")), "")
            print_ = fingerprint(task.get("@odata.etag"), bucket, shaping)
            if prints.changed(scope, str(task_id), print_) or self.config.refresh_details:
                changed.append((task, bucket))
                if len(changed) == BATCH_LIMIT:
                    yield from flush()
            else:
                yield Seen("work_item", self.ref(str(task_id)))
                for role in sorted(self._raid_roles(task, label_names, mapping)):
                    yield Seen(role, self.ref(f"{task_id}#{role}"))
        if changed:
            yield from flush()
        prints.complete(scope)

    # -- normalization ---------------------------------------------------------------------------
    def work_item(
        self,
        task: dict[str, Any],
        details: dict[str, Any],
        *,
        bucket: str,
        project: str | None,
        scope: str,
        mapping: PlannerMapping,
        label_names: dict[str, str] | None = None,
    ) -> WorkItem:
        task_id = str(task["id"])
        try:
            percent = float(task.get("percentComplete") or 0)
        except (TypeError, ValueError):
            raise SourceDataError(
                f"percentComplete {task.get('percentComplete')!r} is not a number",
                source=self.source,
                record=f"task {task_id}",
            ) from None
        if not 0 <= percent <= 100:
            raise SourceDataError(
                f"percentComplete {percent} is outside 0..100", source=self.source, record=f"task {task_id}"
            )
        category: StatusCategory = (
            "done" if percent >= 100 else "in_progress" if percent > 0 else "not_started"
        )
        people: GraphPeople | None = getattr(self, "people", None)
        ids = sorted(str(user) for user in (task.get("assignments") or {}))
        assignees = [people.name(user) if people else user for user in ids]
        tags = [
            name
            for name in self._label_names(task, label_names or {})
            if mapping.labels.get(name, "tag") == "tag"
        ]
        checklist = [c for c in (details.get("checklist") or {}).values() if isinstance(c, dict)]
        title = str(task.get("title") or task_id)
        custom: dict[str, str | int | float | bool | None] = {
            "bucket": bucket or None,
            "priority": _priority_label(task.get("priority"), mapping),
            "checklist_items": len(checklist),
            "checklist_done": sum(1 for c in checklist if c.get("isChecked")),
            "has_description": bool(details.get("description")),
            # the Entra object ids behind the names (names can repeat; ids cannot)
            "assignee_ids": ",".join(ids) or None,
        }
        # Start and due are dates kept as the setter's local midnight; completion is a real instant.
        due = date_only_day(task.get("dueDateTime"), self.zone)
        return WorkItem(
            source=self.ref(task_id),
            project=project,
            scope=scope,
            name=title,
            # valid time: a report for an earlier status date leaves out tasks created after it
            created_at=odata_moment(task.get("createdDateTime")),
            kind="milestone" if any(title.startswith(p) for p in mapping.milestone_prefixes) else "task",
            parent=None,
            status=mapping.status.get(category, category),
            status_category=category,
            start=date_only_day(task.get("startDateTime"), self.zone),
            finish=due,
            due=due,
            actual_finish=odata_day(task.get("completedDateTime"), self.zone),
            done_at=odata_moment(task.get("completedDateTime")),
            percent_complete=percent,
            assignee=assignees[0] if assignees else None,
            resources=tuple(assignees),
            labels=((bucket,) if bucket else ()) + tuple(tags),
            custom=custom,
        )

    # -- labels and RAID markers ---------------------------------------------------------------
    @staticmethod
    def _label_names(task: dict[str, Any], label_names: dict[str, str]) -> list[str]:
        """The names of the labels applied to ``task`` (``appliedCategories``: category1..25 → True),
        named by the plan's ``categoryDescriptions``; an unnamed label is called by its category."""
        applied = task.get("appliedCategories") or {}
        keys = sorted((str(k) for k, on in applied.items() if on is True), key=_category_number)
        return [label_names.get(key, key) for key in keys]

    def _raid_roles(
        self, task: dict[str, Any], label_names: dict[str, str], mapping: PlannerMapping
    ) -> set[str]:
        roles: set[str] = {mapping.labels.get(name, "tag") for name in self._label_names(task, label_names)}
        return roles & {"risk", "issue"}

    def raid_records(
        self, task: dict[str, Any], item: WorkItem, label_names: dict[str, str], mapping: PlannerMapping
    ) -> Iterator[Risk | Issue]:
        """A task labelled as a risk or an issue (``labels:`` in the mapping) is also that RAID record,
        kept in step with the task: same title, owner, status and due date."""
        task_id = str(task["id"])
        for role in sorted(self._raid_roles(task, label_names, mapping)):
            common: dict[str, Any] = {
                "source": self.ref(f"{task_id}#{role}"),
                "project": item.project,
                "scope": item.scope,
                "created_at": item.created_at,
                "title": item.name,
                "owner": item.assignee,
                "status": item.status,
                "status_category": item.status_category,
                "due": item.due,
            }
            if role == "risk":
                yield Risk(**common)
            else:
                priority = item.custom.get("priority")
                yield Issue(
                    **common, priority=str(priority) if priority else None, resolved_on=item.actual_finish
                )


def _priority_label(value: Any, mapping: PlannerMapping) -> str | None:
    if not isinstance(value, int):
        return None
    for label, bound in sorted(mapping.priority.items(), key=lambda item: item[1]):
        if value <= bound:
            return label
    return None


def _category_number(key: str) -> int:
    """``category7`` → 7 (Planner's label slots), for a stable label order."""
    digits = key.removeprefix("category")
    return int(digits) if digits.isdigit() else 0
