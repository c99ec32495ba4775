"""Jira issue JSON → normalized records (work items, or risks / issues / decisions / action items)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pmsync.errors import SourceDataError
from pmsync.model import (
    ActionItem,
    Decision,
    Dependency,
    FieldChange,
    Issue,
    Record,
    Risk,
    SourceRef,
    StatusCategory,
    WorkItem,
)

from .adf import adf_to_text
from .history import (
    ChangelogFields,
    TimedHistory,
    changelog_changes,
    history_field_ids,
    timed_histories,
    worklog_changes,
)
from .mapping import JiraMapping, ResolvedFields

_JIRA_CATEGORY: dict[str, StatusCategory] = {
    "new": "not_started",
    "indeterminate": "in_progress",
    "done": "done",
}
FIELD_ROLES = (
    "story_points", "start_date", "target_end", "epic_link", "sprint", "team",
    "risk_probability", "risk_impact",
)  # fmt: skip
_SPRINT_NAME = re.compile(r"[\[,]name=([^,\]]*)")
_SPRINT_STATE = re.compile(r"[\[,]state=([A-Za-z]+)")


def parse_time(value: Any) -> datetime | None:
    """Jira's ``2026-11-20T21:15:30.123+1100`` (or ISO 8601) as an aware UTC datetime."""
    if not value:
        return None
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    text = str(value)
    if len(text) > 10:
        moment = parse_time(text)
        return moment.date() if moment else None
    return date.fromisoformat(text)


def adf_text(value: Any) -> str | None:
    """Plain text of a description: a string (v2's wiki markup) or an ADF tree (v3), without loss."""
    return adf_to_text(value)


def _name(value: Any) -> str | None:
    """A display name from a user, option, team or plain value."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("displayName", "name", "title", "value"):
            if value.get(key):
                return str(value[key])
        return None
    if isinstance(value, list):
        return _name(value[-1]) if value else None
    return str(value)


def sprint_name(value: Any) -> str | None:
    """The current sprint: the active one, else the latest (Cloud objects or Data Center strings)."""
    if not value:
        return None
    sprints = value if isinstance(value, list) else [value]
    named: list[tuple[str, str]] = []
    for sprint in sprints:
        if isinstance(sprint, dict):
            named.append((str(sprint.get("name", "")), str(sprint.get("state", "")).lower()))
        elif isinstance(sprint, str):
            name, state = _SPRINT_NAME.search(sprint), _SPRINT_STATE.search(sprint)
            named.append((name.group(1) if name else sprint, state.group(1).lower() if state else ""))
    active = [n for n, s in named if s == "active"]
    return active[-1] if active else (named[-1][0] if named else None)


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _hours(seconds: Any) -> float | None:
    return round(_finite(seconds) / 3600, 4) if seconds not in (None, "") else None


def _points(value: Any) -> float | None:
    """Story points: a number field, or a select field whose option is a number."""
    if value is None:
        return None
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return _finite(value)


def _labels(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # one label, not one per character
        return (value,)
    return tuple(str(label) for label in value)


class FieldError(ValueError):
    """A field whose value pmsync cannot read: the message names the field and shows the value."""

    def __init__(self, name: str, value: Any, cause: Exception) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(f"field {name} holds {shown} ({cause})")


def read_field(fields: Mapping[str, Any], name: str, parse: Any) -> Any:
    """``parse(fields[name])``, any failure reported as a :class:`FieldError` naming the field."""
    value = fields.get(name)
    try:
        return parse(value)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise FieldError(name, value, exc) from None


def _number(value: Any, scale: Mapping[str, float]) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    label = _name(value)
    if label is None:
        return None
    if label in scale:
        return scale[label]
    try:
        return float(label)
    except ValueError:
        return None


@dataclass
class StatusHistory:
    started_at: datetime | None = None
    done_at: datetime | None = None


def status_history(
    histories: Iterable[TimedHistory], category_of: Mapping[str, StatusCategory], current: StatusCategory
) -> StatusHistory:
    """When work started (first move to an in-progress or done status) and finished (the last move
    into a done status, if the issue is still done), in UTC."""
    changes: list[tuple[datetime, str]] = []
    for moment, history in histories:
        # The moment was parsed once for every reader (timed_histories); only what it could not read
        # goes through parse_time, which reads a naive time as UTC and raises on garbage, as before.
        when = moment.astimezone(UTC) if moment is not None else parse_time(history.get("created"))
        if when is None:
            continue
        for item in history.get("items") or []:
            if item.get("field") == "status" and item.get("toString"):
                changes.append((when, str(item["toString"])))
    changes.sort(key=lambda change: change[0])
    result = StatusHistory()
    for when, status in changes:
        category = category_of.get(status.casefold(), "in_progress")
        if category != "not_started" and result.started_at is None:
            result.started_at = when
        if category == "done":
            result.done_at = when
        elif result.done_at is not None:
            result.done_at = None  # reopened
    if current != "done":
        result.done_at = None
    return result


class IssueNormalizer:
    """Maps one raw issue to a record; the caller supplies what needs extra requests."""

    def __init__(
        self,
        mapping: JiraMapping,
        *,
        source: str,
        base_url: str,
        project_links: Mapping[str, str],
        status_categories: Mapping[str, StatusCategory],
        fields: ResolvedFields | None = None,
    ) -> None:
        self.mapping = mapping
        #: role -> field ids on this site (resolved by name at sync start)
        self.fields = fields or ResolvedFields()
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.project_links = project_links
        self.category_of = {k.casefold(): v for k, v in status_categories.items()}
        self.category_of.update({k.casefold(): v for k, v in mapping.statuses.items()})
        # Resolved once per run, not per issue: each issue reads them for eight roles.
        self.role_ids: dict[str, tuple[str, ...]] = {role: self.fields.of(role) for role in FIELD_ROLES}
        #: the changelog fields a rollback needs (the changelog bulkfetch asks for these)
        self.history_field_ids: tuple[str, ...] = tuple(history_field_ids(self.role_ids))
        self.changelog_fields = ChangelogFields(self.role_ids)
        self.kinds: dict[str, Any] = {}
        for kind, names in mapping.issue_types.model_dump().items():
            for name in names:
                self.kinds.setdefault(name.casefold(), kind)

    def field_of(self, fields: Mapping[str, Any], role: str) -> str | None:
        """The id of the first of ``role``'s fields that holds a value on this issue (else the first
        of them, or ``None`` when the site has none): both project types' story points are read."""
        ids = self.role_ids[role] if role in self.role_ids else self.fields.of(role)
        for fid in ids:
            if fields.get(fid) is not None:
                return fid
        return ids[0] if ids else None

    def predecessors(self, links: Any) -> tuple[Dependency, ...]:
        """Finish-to-start predecessors: the inward issues of the mapping's dependency link types
        ("is blocked by" X means X finishes first)."""
        if not links:
            return ()
        wanted = {t.casefold() for t in self.mapping.dependency_link_types}
        found: set[str] = set()
        for link in links:
            kind = str((link.get("type") or {}).get("name") or "").casefold()
            other = link.get("inwardIssue")
            if kind in wanted and isinstance(other, dict) and other.get("key"):
                found.add(str(other["key"]))
        return tuple(Dependency(predecessor=k) for k in sorted(found))

    def release(self, version: Mapping[str, Any], project_key: str, issues: Iterable[str]) -> WorkItem:
        """A project version (release) as a milestone: due on its release date, done when released,
        its predecessors the issues planned for it (``fixVersion``)."""
        vid = str(version.get("id") or "")
        name = str(version.get("name") or vid)
        if not vid:
            raise SourceDataError("a project version without an id", source=self.source, record=project_key)
        try:
            released = bool(version.get("released"))
            release_date = parse_date(version.get("releaseDate"))
            start = parse_date(version.get("startDate"))
        except ValueError as exc:
            raise SourceDataError(
                f"cannot read release {name!r}: {exc}", source=self.source, record=f"{project_key} {name}"
            ) from None
        return WorkItem(
            source=self.ref(f"{project_key}/version/{vid}"),
            project=self.project_links.get(project_key, project_key),
            scope=f"project:{project_key}",
            url=f"{self.base_url}/projects/{project_key}/versions/{vid}",
            key=f"{project_key} {name}",
            name=f"Release {name}",
            kind="milestone",
            status="Released" if released else "Unreleased",
            status_category="done" if released else "not_started",
            start=start,
            finish=release_date,
            due=release_date,
            actual_finish=release_date if released else None,
            percent_complete=100.0 if released else 0.0,
            predecessors=tuple(Dependency(predecessor=k) for k in sorted(set(issues))),
            links={"jira_version": vid},
        )

    def kind_of(self, issue_type: str) -> Any:
        return self.kinds.get(issue_type.casefold(), "task")

    def ref(self, key: str) -> SourceRef:
        return SourceRef(system="jira", instance=self.source, external_id=key)

    def status_category(self, status: dict[str, Any]) -> StatusCategory:
        name = str(status.get("name", ""))
        if name.casefold() in self.category_of:
            return self.category_of[name.casefold()]
        key = str((status.get("statusCategory") or {}).get("key", "new"))
        return _JIRA_CATEGORY.get(key, "in_progress")

    def record_type(self, issue_type: str) -> str:
        kind = self.kind_of(issue_type)
        return kind if kind in ("risk", "issue", "decision", "action_item") else "work_item"

    def normalize(
        self,
        raw: dict[str, Any],
        *,
        histories: list[dict[str, Any]] | None = None,
        worklogs: list[dict[str, Any]] | None = None,
    ) -> Record:
        key = str(raw.get("key") or "")
        fields = raw.get("fields") or {}
        try:
            return self._normalize(key, fields, raw, histories, worklogs)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise SourceDataError(
                f"cannot read issue: {exc}",
                source=self.source,
                record=key or "(issue without key)",
                hint="check in Jira that the field has the type pmsync expects, and the field ids in "
                "the mapping (`pmsync doctor` checks them)",
            ) from None

    def _normalize(
        self,
        key: str,
        fields: dict[str, Any],
        raw: dict[str, Any],
        histories: list[dict[str, Any]] | None,
        worklogs: list[dict[str, Any]] | None,
    ) -> Record:
        if not key:
            raise ValueError("the issue has no key")
        project_key = str((fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0])
        status = fields.get("status") or {}
        category = self.status_category(status)
        changelog = timed_histories(
            histories if histories is not None else (raw.get("changelog") or {}).get("histories") or []
        )
        history = status_history(changelog, self.category_of, category)
        f = {role: self.field_of(fields, role) for role in FIELD_ROLES}
        issue_type = str((fields.get("issuetype") or {}).get("name") or "")
        kind = self.kind_of(issue_type)
        common: dict[str, Any] = {
            "source": self.ref(key),
            "source_modified": parse_time(fields.get("updated")),
            "project": self.project_links.get(project_key, project_key),
            "scope": f"project:{project_key}",
            "url": f"{self.base_url}/browse/{key}",
            "created_at": parse_time(fields.get("created")),
        }
        summary = str(fields.get("summary") or key)
        owner = _name(fields.get("assignee"))
        status_name = str(status.get("name")) if status.get("name") else None
        due = read_field(fields, "duedate", parse_date)
        created = read_field(fields, "created", parse_date)
        resolved = read_field(fields, "resolutiondate", parse_date)

        def text() -> str | None:  # only RAID records keep a description; skip the parse otherwise
            return adf_text(fields.get("description"))

        def raid_history(model: type[Record], owner_field: str) -> tuple[FieldChange, ...]:
            changes = changelog_changes(
                changelog, self.changelog_fields, self.category_of, owner_field=owner_field, derived=False
            )
            return tuple(c for c in changes if c.field in model.model_fields)

        if kind == "risk":
            probability = _number(
                fields.get(f["risk_probability"]) if f["risk_probability"] else None,
                self.mapping.probability_scale,
            )
            impact = _number(
                fields.get(f["risk_impact"]) if f["risk_impact"] else None, self.mapping.impact_scale
            )
            return Risk(
                **common, history=raid_history(Risk, "owner"), title=summary, description=text(),
                owner=owner, status=status_name,
                status_category=category, probability=probability, impact=impact,
                score=probability * impact if probability is not None and impact is not None else None,
                due=due, raised_on=created,
            )  # fmt: skip
        if kind == "issue":
            return Issue(
                **common, history=raid_history(Issue, "owner"), title=summary, description=text(),
                owner=owner, status=status_name,
                status_category=category, priority=_name(fields.get("priority")), due=due,
                raised_on=created, resolved_on=resolved if category == "done" else None,
            )  # fmt: skip
        if kind == "decision":
            return Decision(
                **common, history=raid_history(Decision, "decided_by"), title=summary,
                description=text(), decided_by=owner, status=status_name,
                decided_on=resolved if category == "done" else None,
            )  # fmt: skip
        if kind == "action_item":
            return ActionItem(
                **common,
                history=raid_history(ActionItem, "owner"),
                title=summary,
                owner=owner,
                status=status_name,
                status_category=category,
                due=due,
            )
        parent = (fields.get("parent") or {}).get("key")
        if not parent and f["epic_link"]:
            parent = fields.get(f["epic_link"]) or None
        spent = fields.get("timespent")
        changes = [
            c
            for c in changelog_changes(changelog, self.changelog_fields, self.category_of)
            if self.mapping.effort != "worklogs" or c.field != "effort_actual_hours"
        ]
        if self.mapping.effort == "worklogs":
            # every worklog: fetched in full by the caller, else the (complete) inline list
            logs = worklogs if worklogs is not None else (fields.get("worklog") or {}).get("worklogs") or []
            spent = sum(int(w.get("timeSpentSeconds") or 0) for w in logs) if logs else None
            if worklogs is not None or not worklogs_incomplete(raw):
                changes += worklog_changes(logs, read_field({"timespent": spent}, "timespent", _hours))
        return WorkItem(
            **common,
            history=tuple(sorted(changes, key=lambda c: c.at)),
            key=key,
            name=summary,
            kind=kind,
            parent=str(parent) if parent else None,
            status=status_name,
            status_category=category,
            start=read_field(fields, f["start_date"], parse_date) if f["start_date"] else None,
            finish=read_field(fields, f["target_end"], parse_date) if f["target_end"] else None,
            due=due,
            actual_start=history.started_at.date() if history.started_at else None,
            actual_finish=history.done_at.date() if history.done_at else None,
            percent_complete=100.0 if category == "done" else None,
            effort_estimate_hours=read_field(fields, "timeoriginalestimate", _hours),
            effort_actual_hours=read_field({"timespent": spent}, "timespent", _hours),
            effort_remaining_hours=read_field(fields, "timeestimate", _hours),
            story_points=read_field(fields, f["story_points"], _points) if f["story_points"] else None,
            assignee=owner,
            sprint=sprint_name(fields.get(f["sprint"])) if f["sprint"] else None,
            team=_name(fields.get(f["team"])) if f["team"] else None,
            labels=read_field(fields, "labels", _labels),
            predecessors=read_field(fields, "issuelinks", self.predecessors),
            custom=read_field(fields, "fixVersions", _releases),
            links={"jira": key},
            started_at=history.started_at,
            done_at=history.done_at,
        )


def _releases(value: Any) -> dict[str, str]:
    """The releases an issue is planned for (``fixVersions``), kept as ``custom["releases"]``."""
    if not value:
        return {}
    names = [str(v.get("name")) for v in value if isinstance(v, dict) and v.get("name")]
    return {"releases": ", ".join(names)} if names else {}


#: histories Cloud's enhanced search carries inline at most (JRACLOUD-67458); its ``total`` then
#: counts only those, so a changelog this long is taken as cut short
CLOUD_INLINE_CHANGELOG = 40


def changelog_incomplete(raw: dict[str, Any], *, cloud: bool) -> bool:
    """Whether the inline changelog may lack entries: ``total`` says so, or (Cloud) it is full."""
    changelog = raw.get("changelog") or {}
    held = len(changelog.get("histories") or [])
    if int(changelog.get("total") or 0) > held:
        return True
    return cloud and held >= CLOUD_INLINE_CHANGELOG


def worklogs_incomplete(raw: dict[str, Any]) -> bool:
    worklog = (raw.get("fields") or {}).get("worklog") or {}
    return int(worklog.get("total") or 0) > len(worklog.get("worklogs") or [])
