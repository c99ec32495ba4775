"""Render sandbox issues as Jira REST JSON (Cloud v3 / Data Center v2 shapes, per Atlassian's docs)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pmsync.sandbox.jira.data import (
    DAY_MS,
    ISSUE_TYPES,
    RELEASES,
    SPRINT_DAYS,
    STATUSES,
    TEAMS,
    USERS,
    WORKFLOWS,
    Edit,
    Hit,
    IssueState,
    JiraData,
    Transition,
    Worklog,
)
from pmsync.sandbox.jira.richtext import rich_description

_CATEGORY = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Flavor:
    """What differs between Jira Cloud and Data Center, as far as pmsync can see."""

    name: str
    deployment_type: str
    version: str
    api_version: str
    #: custom field ids by role
    fields: dict[str, str]

    @property
    def cloud(self) -> bool:
        return self.name == "cloud"


CLOUD = Flavor(
    "cloud",
    "Cloud",
    "1001.0.0-SNAPSHOT",
    "3",
    {
        "story_points": "customfield_10016",
        "start_date": "customfield_10015",
        "target_end": "customfield_10023",
        "epic_link": "customfield_10014",
        "sprint": "customfield_10020",
        "team": "customfield_10001",
        "probability": "customfield_10050",
        "impact": "customfield_10051",
    },
)
DATACENTER = Flavor(
    "datacenter",
    "Server",
    "9.12.2",
    "2",
    {
        "story_points": "customfield_10106",
        "start_date": "customfield_10200",
        "target_end": "customfield_10201",
        "epic_link": "customfield_10100",
        "sprint": "customfield_10104",
        "team": "customfield_10300",
        "probability": "customfield_10400",
        "impact": "customfield_10401",
    },
)
FLAVORS = {"cloud": CLOUD, "datacenter": DATACENTER}

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
_GH = "com.pyxis.greenhopper.jira:"
_JPO = "com.atlassian.jpo:"
_CUSTOM_SCHEMAS: dict[str, tuple[str, dict[str, Any]]] = {
    "story_points": ("Story Points", {"type": "number", "custom": _CF + "float"}),
    "story_point_estimate": (
        "Story point estimate", {"type": "number", "custom": _GH + "jsw-story-points"}
    ),
    "start_date": ("Start date", {"type": "date", "custom": _CF + "datepicker"}),
    "target_end": ("Target end", {"type": "date", "custom": _JPO + "jpo-custom-field-baseline-end"}),
    "epic_link": ("Epic Link", {"type": "any", "custom": _GH + "gh-epic-link"}),
    "sprint": ("Sprint", {"type": "array", "items": "json", "custom": _GH + "gh-sprint"}),
    "team": ("Team", {"type": "option", "custom": _CF + "select"}),
    "probability": ("Probability", {"type": "option", "custom": _CF + "select"}),
    "impact": ("Impact", {"type": "option", "custom": _CF + "select"}),
}  # fmt: skip
_SYSTEM_FIELDS = (
    ("summary", "Summary", {"type": "string", "system": "summary"}),
    ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
    ("status", "Status", {"type": "status", "system": "status"}),
    ("project", "Project", {"type": "project", "system": "project"}),
    ("parent", "Parent", {"type": "issuelink", "system": "parent"}),
    ("created", "Created", {"type": "datetime", "system": "created"}),
    ("updated", "Updated", {"type": "datetime", "system": "updated"}),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}),
    ("priority", "Priority", {"type": "priority", "system": "priority"}),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}),
    ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
    ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}),
    ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
    ("description", "Description", {"type": "string", "system": "description"}),
    ("timetracking", "Time tracking", {"type": "timetracking", "system": "timetracking"}),
    ("timespent", "Time Spent", {"type": "number", "system": "timespent"}),
    ("timeoriginalestimate", "Original estimate", {"type": "number", "system": "timeoriginalestimate"}),
    ("timeestimate", "Remaining Estimate", {"type": "number", "system": "timeestimate"}),
    ("aggregatetimespent", "Σ Time Spent", {"type": "number", "system": "aggregatetimespent"}),
    ("worklog", "Log Work", {"type": "array", "items": "worklog", "system": "worklog"}),
    ("subtasks", "Sub-tasks", {"type": "array", "items": "issuelinks", "system": "subtasks"}),
    ("comment", "Comment", {"type": "comments-page", "system": "comment"}),
    ("fixVersions", "Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}),
    ("issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"}),
)
#: fields the real Cloud search never gives more than the id/key-only page size for
ID_ONLY_FIELDS = frozenset({"id", "key"})


def site_fields(flavor: Flavor, seed: int) -> dict[str, str]:
    """Custom field ids by role on this sandbox site: numbered from the seed, so they differ from
    site to site as on real Jira (ids are assigned as fields are created) and match no id a shipped
    mapping could name. Cloud sites also have team-managed projects' "Story point estimate"."""
    roles = list(flavor.fields)
    if flavor.cloud:
        roles.insert(1, "story_point_estimate")
    base = 10_500 + (seed * 7919) % 20_000
    return {role: f"customfield_{base + 3 * i + (seed % 3)}" for i, role in enumerate(roles)}


def field_list(fields: dict[str, str]) -> list[dict[str, Any]]:
    """``GET /rest/api/N/field``: system fields plus the custom fields with their schema."""
    out: list[dict[str, Any]] = []
    for fid, name, schema in _SYSTEM_FIELDS:
        out.append(
            {
                "id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                "navigable": True, "searchable": True, "clauseNames": [fid], "schema": schema,
            }
        )  # fmt: skip
    for role, fid in fields.items():
        name, schema = _CUSTOM_SCHEMAS[role]
        number = int(fid.rsplit("_", 1)[1])
        out.append(
            {
                "id": fid, "key": fid, "name": name, "custom": True,
                "orderable": True, "navigable": True, "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {**schema, "customId": number},
            }
        )  # fmt: skip
    return out


#: seconds in a quarter hour: UTC offsets in use are whole quarter hours (Nepal's +0545 too)
_QUARTER = 900


def _offset_text(offset: timedelta | None) -> str:
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    hours, rest = divmod(abs(minutes), 60)
    return f"{'+' if minutes >= 0 else '-'}{hours:02d}{rest:02d}"


class Renderer:
    """Turns :class:`IssueState` into the JSON a Jira of ``flavor`` would send."""

    def __init__(self, data: JiraData, flavor: Flavor, base_url: str, tz: ZoneInfo) -> None:
        self.data = data
        self.flavor = flavor
        self.base = base_url
        self.tz = tz
        #: custom field ids by role on this site
        self.fields = site_fields(flavor, data.seed)
        self.makers = self._makers()
        #: how many histories / worklogs a search result carries inline (the rest: their own endpoints)
        self.changelog_limit: int | None = 40 if flavor.cloud else None
        self.worklog_limit = 20
        self._users: dict[int, dict[str, Any]] = {}
        #: (local "YYYY-MM-DDTHH:", its first minute, UTC offset text) per UTC quarter hour
        self._quarters: dict[int, tuple[str, int, str] | None] = {}

    def timestamp(self, ms: int) -> str:
        """Jira's format, in the user's time zone: ``2026-11-20T21:15:30.123+1100``.

        Every issue, history and sprint carries several, so this is the sandbox's busiest function:
        the local date and hour and the UTC offset are worked out once per quarter hour (every
        offset in use is whole quarter hours, so local hours begin on UTC quarter hours) and only
        the minutes and seconds are formatted per call. A quarter hour in which the offset changes,
        or an offset that is not whole quarter hours, is formatted the long way."""
        seconds, millis = divmod(ms, 1000)
        bucket = seconds - seconds % _QUARTER
        if bucket not in self._quarters:
            if len(self._quarters) > 200_000:  # about five years of quarter hours
                self._quarters.clear()
            self._quarters[bucket] = self._quarter(bucket)
        quarter = self._quarters[bucket]
        if quarter is None:
            return self._exact_timestamp(seconds, millis)
        prefix, minute, suffix = quarter
        within = seconds - bucket
        return f"{prefix}{minute + within // 60:02d}:{within % 60:02d}.{millis:03d}{suffix}"

    def _quarter(self, start: int) -> tuple[str, int, str] | None:
        """``None`` for a quarter hour whose timestamps are formatted the long way."""
        first = datetime.fromtimestamp(start, self.tz)
        offset = first.utcoffset()
        last = datetime.fromtimestamp(start + _QUARTER - 1, self.tz)
        if offset is None or last.utcoffset() != offset or offset.total_seconds() % _QUARTER:
            return None
        prefix = f"{first.year:04d}-{first.month:02d}-{first.day:02d}T{first.hour:02d}:"
        return prefix, first.minute, _offset_text(offset)

    def _exact_timestamp(self, seconds: int, millis: int) -> str:
        m = datetime.fromtimestamp(seconds, self.tz)
        return (
            f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
            f"{millis:03d}{_offset_text(m.utcoffset())}"
        )

    def issue_id(self, state: IssueState) -> str:
        return str(self.data.specs[state.project].index * 1_000_000 + 10_000 + state.number)

    def user(self, index: int | None) -> dict[str, Any] | None:
        if index is None:
            return None
        if index not in self._users:
            self._users[index] = self._user(index)
        return self._users[index]

    def _user(self, index: int) -> dict[str, Any]:
        account, name, login = USERS[index]
        if self.flavor.cloud:
            return {
                "self": f"{self.base}/rest/api/3/user?accountId={account}",
                "accountId": account, "displayName": name, "active": True,
                "timeZone": str(self.tz), "accountType": "atlassian",
            }  # fmt: skip
        return {
            "self": f"{self.base}/rest/api/2/user?username={login}", "name": login,
            "key": f"JIRAUSER{index + 10000}",
            "emailAddress": f"{login}@agency.example", "displayName": name, "active": True,
            "timeZone": str(self.tz),
        }  # fmt: skip

    def status(self, name: str) -> dict[str, Any]:
        sid, category = STATUSES[name]
        return {
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/status/{sid}",
            "description": "", "name": name, "id": sid,
            "statusCategory": {
                "self": f"{self.base}/rest/api/2/statuscategory/{_CATEGORY[category]['id']}",
                **_CATEGORY[category],
            },
        }  # fmt: skip

    def issuetype(self, name: str) -> dict[str, Any]:
        tid, level, subtask, _ = ISSUE_TYPES[name]
        return {
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/issuetype/{tid}",
            "id": tid, "description": "", "name": name, "subtask": subtask, "hierarchyLevel": level,
        }  # fmt: skip

    def project(self, key: str) -> dict[str, Any]:
        spec = self.data.specs[key]
        return {
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/project/{10000 + spec.index}",
            "id": str(10000 + spec.index), "key": key, "name": spec.name,
            "projectTypeKey": "software", "simplified": self.team_managed(key),
        }  # fmt: skip

    def version(self, project: str, index: int) -> dict[str, Any]:
        spec = self.data.specs[project]
        vid = str(20_000 + spec.index * 10 + index)
        release_ms = self.data.release_date_ms(index)
        return {
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/version/{vid}",
            "id": vid, "name": RELEASES[index][0], "description": f"{project} release {index + 1}",
            "archived": False, "released": release_ms < self.data.anchor_ms,
            "releaseDate": datetime.fromtimestamp(release_ms / 1000, UTC).date().isoformat(),
            "projectId": 10000 + spec.index,
        }  # fmt: skip

    def versions(self, project: str) -> list[dict[str, Any]]:
        return [self.version(project, i) for i in range(len(RELEASES))]

    def fix_version(self, state: IssueState) -> dict[str, Any] | None:
        index = self.data.release_of(state)
        return self.version(state.project, index) if index is not None else None

    def _link(self, state: IssueState, other_number: int, *, inward: bool) -> dict[str, Any] | None:
        other = self.data.get(state.project, other_number)
        if other is None or not other.alive:
            return None
        oid = self.issue_id(other)
        ref = {
            "id": oid, "key": other.key,
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/issue/{oid}",
            "fields": {
                "summary": other.summary, "status": self.status(other.status),
                "issuetype": self.issuetype(other.type),
            },
        }  # fmt: skip
        low, high = sorted((state.number, other_number))
        return {
            "id": str(self.data.specs[state.project].index * 1_000_000 + low * 10 + 1),
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/issueLink/{low}{high}",
            "type": {
                "id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks",
                "self": f"{self.base}/rest/api/{self.flavor.api_version}/issueLinkType/10000",
            },
            ("inwardIssue" if inward else "outwardIssue"): ref,
        }  # fmt: skip

    def issue_links(self, state: IssueState) -> list[dict[str, Any]]:
        """``issuelinks``: "is blocked by" the blockers (inwardIssue), "blocks" the blocked
        (outwardIssue) -- one link, seen from each side, as Jira shows it."""
        links = [self._link(state, n, inward=True) for n in self.data.blockers(state)]
        links += [self._link(state, n, inward=False) for n in self.data.blocked(state)]
        return [link for link in links if link is not None]

    def sprint(self, project: str, number: int) -> Any:
        spec = self.data.specs[project]
        first = self.data.anchor_ms - self.data.span_days * DAY_MS
        start_ms = first + number * SPRINT_DAYS * DAY_MS
        end_ms = start_ms + SPRINT_DAYS * DAY_MS
        now = self.data.anchor_ms
        state = "closed" if end_ms < now else ("active" if start_ms <= now else "future")
        sid = spec.index * 1000 + number
        name = f"{project} Sprint {number}"
        if self.flavor.cloud:
            return {
                "id": sid, "name": name, "state": state, "boardId": spec.index + 1, "goal": "",
                "startDate": self.timestamp(start_ms), "endDate": self.timestamp(end_ms),
            }  # fmt: skip
        # Data Center (up to 9.x) serialises sprints as Java toString() strings.
        return (
            f"com.atlassian.greenhopper.service.sprint.Sprint@{sid:x}[id={sid},rapidViewId={spec.index + 1},"
            f"state={state.upper()},name={name},startDate={self.timestamp(start_ms)},"
            f"endDate={self.timestamp(end_ms)},completeDate=<null>,activatedDate=<null>,sequence={sid},goal=]"
        )

    def option(self, value: str | None, fid: str) -> dict[str, Any] | None:
        if value is None:
            return None
        return {
            "self": f"{self.base}/rest/api/2/customFieldOption/{fid}",
            "value": value,
            "id": str(abs(hash(value)) % 100000),
        }

    def worklog(self, state: IssueState, log: Worklog) -> dict[str, Any]:
        hours, rest = divmod(log.seconds, 3600)
        spent = f"{hours}h" + (f" {rest // 60}m" if rest else "") if hours else f"{rest // 60}m"
        return {
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/issue/{self.issue_id(state)}"
            f"/worklog/{log.id}",
            "author": self.user(log.author), "updateAuthor": self.user(log.author),
            "created": self.timestamp(log.started_ms), "updated": self.timestamp(log.started_ms),
            "started": self.timestamp(log.started_ms), "timeSpent": spent,
            "timeSpentSeconds": log.seconds, "id": str(log.id), "issueId": self.issue_id(state),
        }  # fmt: skip

    def histories(self, state: IssueState, field_ids: frozenset[str] | None = None) -> list[dict[str, Any]]:
        """The issue's change histories, oldest first (status transitions and other edits merged),
        each keeping only the items whose ``fieldId`` is in ``field_ids`` when given."""
        changes: list[tuple[int, int, Transition | Edit]] = [(t.at_ms, 0, t) for t in state.history]
        changes += [(e.at_ms, 1, e) for e in state.edits]
        changes.sort(key=lambda c: (c[0], c[1]))
        out = []
        for index, (_, _, change) in enumerate(changes):
            history = self.history(state, index, change)
            if field_ids is not None:
                history["items"] = [i for i in history["items"] if i["fieldId"] in field_ids]
                if not history["items"]:
                    continue
            out.append(history)
        return out

    def history(self, state: IssueState, index: int, change: Transition | Edit) -> dict[str, Any]:
        item: dict[str, str | None]
        if isinstance(change, Transition):
            item = {
                "field": "status", "fieldtype": "jira", "fieldId": "status",
                "from": STATUSES[change.from_status][0], "fromString": change.from_status,
                "to": STATUSES[change.to_status][0], "toString": change.to_status,
            }  # fmt: skip
        else:
            custom = {"Sprint": "sprint", "Story Points": "story_points"}.get(change.field)
            field_id = self.fields[custom] if custom else change.field
            # ids only where the field has them (none here): the spec types `from`/`to` as strings
            item = {
                "field": change.field, "fieldtype": "custom" if custom else "jira", "fieldId": field_id,
                "fromString": change.from_string, "toString": change.to_string,
            }  # fmt: skip
        return {
            "id": str(int(self.issue_id(state)) * 100 + index),
            "author": self.user(change.author),
            "created": self.timestamp(change.at_ms),
            "items": [item],
        }

    def changelog(self, state: IssueState, *, complete: bool = False) -> dict[str, Any]:
        """The ``changelog`` expansion. In Cloud's enhanced search it holds the 40 most recent
        histories, newest first, and its ``total`` counts only what it holds (reported by API users
        since the move to ``/search/jql``, JRACLOUD-67458; ``total`` cannot be trusted there), so
        a full page means "maybe more". Data Center's search and ``GET issue`` carry it whole (a test may
        set :attr:`changelog_limit` there too; Data Center's ``total`` then stays true)."""
        histories = self.histories(state)
        total = len(histories)
        if self.flavor.cloud:
            histories.reverse()  # Cloud lists the most recent first
        if not complete and self.changelog_limit is not None and total > self.changelog_limit:
            histories = histories[: self.changelog_limit]
            if self.flavor.cloud:
                total = len(histories)
        return {"startAt": 0, "maxResults": len(histories), "total": total, "histories": histories}

    def description(self, state: IssueState) -> Any:
        """The description: wiki markup on Data Center (v2), Atlassian Document Format on Cloud.

        RAID issues carry what real risk registers hold, in every inline and block node a Jira
        editor produces (ADF structure reference, developer.atlassian.com/cloud/jira/platform/apis/
        document/structure): a mention, a date, a status lozenge, an inline card, an emoji, a hard
        break, a link, nested bullet and numbered lists, a task list, a table, a panel, a heading,
        a code block, a quote, a rule and an expand. Other issues get one paragraph.
        """
        text = f"{state.summary}. Generated by the pmsync sandbox."
        rich = not self._delivery(state)
        due = state.due_date or datetime.fromtimestamp(state.created_ms / 1000, self.tz).date().isoformat()
        link = f"{self.base}/browse/{state.key}"
        if self.flavor.api_version == "2":
            if not rich:
                return text
            return (
                f"{text}\nOwner: [~{USERS[state.reporter][2]}] due {due}. See {link} status "
                "{{AT RISK}} (!)\n* item one\n** first step\n* item two\n"
                "||Impact||Likelihood||\n|High|Medium|\n{warning}Escalate if not mitigated by sprint "
                "end.{warning}\n{code:sql}SELECT 1;{code}"
            )
        paragraph = [{"type": "text", "text": text}]
        if not rich:
            return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": paragraph}]}
        return rich_description(text, state, owner=USERS[state.reporter], due=due, link=link)

    @staticmethod
    def _delivery(state: IssueState) -> bool:
        return ISSUE_TYPES[state.type][3] == "delivery"

    def _parent(self, state: IssueState) -> dict[str, Any] | None:
        other = self.data.get(state.project, state.parent) if state.parent is not None else None
        if other is None:
            return None
        return {
            "id": self.issue_id(other), "key": other.key,
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/issue/{self.issue_id(other)}",
            "fields": {
                "summary": other.summary, "status": self.status(other.status),
                "issuetype": self.issuetype(other.type),
            },
        }  # fmt: skip

    @staticmethod
    def _remaining(state: IssueState) -> int | None:
        if state.estimate_seconds is None:
            return None
        if STATUSES[state.status][1] == "done":
            return 0
        return max(0, state.estimate_seconds - state.spent_seconds)

    def _tracking(self, state: IssueState) -> dict[str, Any]:
        tracking: dict[str, Any] = {}
        if state.estimate_seconds is not None:
            tracking["originalEstimateSeconds"] = state.estimate_seconds
            tracking["remainingEstimateSeconds"] = self._remaining(state)
        if state.spent_seconds:
            tracking["timeSpentSeconds"] = state.spent_seconds
        return tracking

    def _makers(self) -> dict[str, Callable[[IssueState], Any]]:
        """Field id → how to render it; only the fields a request asks for are computed."""
        f = self.fields

        def done(s: IssueState) -> bool:
            return STATUSES[s.status][1] == "done"

        def team_managed(s: IssueState) -> bool:
            return self.team_managed(s.project)

        return {
            "summary": lambda s: s.summary,
            "issuetype": lambda s: self.issuetype(s.type),
            "status": lambda s: self.status(s.status),
            "project": lambda s: self.project(s.project),
            "parent": self._parent,
            "created": lambda s: self.timestamp(s.created_ms),
            "updated": lambda s: self.timestamp(s.updated_ms),
            "assignee": lambda s: self.user(s.assignee),
            "reporter": lambda s: self.user(s.reporter),
            "priority": lambda s: {"name": s.priority, "id": str(len(s.priority))},
            "duedate": lambda s: s.due_date,
            "labels": lambda s: list(s.labels),
            "resolution": lambda s: {"name": "Done", "id": "10000"} if done(s) else None,
            "resolutiondate": lambda s: self.timestamp(s.updated_ms) if done(s) else None,
            "description": self.description,
            "timetracking": self._tracking,
            "timespent": lambda s: s.spent_seconds or None,
            "aggregatetimespent": lambda s: s.spent_seconds or None,
            "timeoriginalestimate": lambda s: s.estimate_seconds,
            "timeestimate": self._remaining,
            "worklog": lambda s: {
                "startAt": 0,
                "maxResults": self.worklog_limit,
                "total": len(s.worklogs),
                "worklogs": [self.worklog(s, w) for w in s.worklogs[: self.worklog_limit]],
            },  # fmt: skip
            "subtasks": lambda s: [],
            "comment": self.comments,
            "fixVersions": lambda s: [v] if (v := self.fix_version(s)) else [],
            "issuelinks": self.issue_links,
            f["story_points"]: lambda s: None if team_managed(s) else s.story_points,
            f["start_date"]: lambda s: s.start_date,
            f["target_end"]: lambda s: s.target_end,
            f["epic_link"]: lambda s: f"{s.project}-{s.epic_link}" if s.epic_link else None,
            f["sprint"]: lambda s: [self.sprint(s.project, s.sprint)] if s.sprint else None,
            f["team"]: lambda s: self.option(TEAMS[s.team], f["team"]) if s.team is not None else None,
            f["probability"]: lambda s: self.option(s.probability, f["probability"]),
            f["impact"]: lambda s: self.option(s.impact, f["impact"]),
            **(
                {f["story_point_estimate"]: lambda s: s.story_points if team_managed(s) else None}
                if "story_point_estimate" in f
                else {}
            ),
        }

    def team_managed(self, project: str) -> bool:
        """Cloud's odd-numbered sandbox projects are team-managed ("simplified"): their story points
        live in "Story point estimate", not in the company-managed "Story Points" field."""
        return self.flavor.cloud and self.data.specs[project].index % 2 == 1

    def all_fields(self, state: IssueState, wanted: set[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fid, make in self.makers.items():
            if wanted is None or fid in wanted:
                value = make(state)
                if fid != "parent" or value is not None:  # Jira omits `parent` when there is none
                    out[fid] = value
        return out

    def issue(
        self, hit: Hit | IssueState, fields: list[str], expand: set[str], *, complete: bool = False
    ) -> dict[str, Any]:
        iid = str(self.data.specs[hit.project].index * 1_000_000 + 10_000 + hit.number)
        out: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": iid,
            "self": f"{self.base}/rest/api/{self.flavor.api_version}/issue/{iid}",
            "key": hit.key,
        }
        wanted = select_fields(fields)
        if self.flavor.cloud and wanted == {"id"}:
            # Cloud's /search/jql with `fields=id` (its default) lists issue ids and nothing else.
            return {"id": iid}
        if wanted is not None and not (wanted - ID_ONLY_FIELDS):
            out["fields"] = {}
            return out
        state = hit.state if isinstance(hit, Hit) else hit
        out["fields"] = self.all_fields(state, wanted)
        if "changelog" in expand:
            out["changelog"] = self.changelog(state, complete=complete)
        if "transitions" in expand:
            out["transitions"] = self.transitions(state)
        return out

    def transitions(self, state: IssueState) -> list[dict[str, Any]]:
        """``expand=transitions``: the moves the workflow allows from the issue's status."""
        workflow = WORKFLOWS[ISSUE_TYPES[state.type][3]]
        here = workflow.index(state.status) if state.status in workflow else 0
        targets = [s for i, s in enumerate(workflow) if abs(i - here) == 1]
        return [
            {
                "id": str(11 + workflow.index(target) * 10),
                "name": target,
                "to": self.status(target),
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }  # fmt: skip
            for target in targets
        ]

    def comments(self, state: IssueState) -> dict[str, Any]:
        """The ``comment`` field (a page of comments; ``*all`` includes it): a comment per status
        change, by whoever made it, in ADF on Cloud and wiki markup on Data Center."""
        values = []
        for index, change in enumerate(state.history[: self.worklog_limit]):
            text = f"Moved to {change.to_status}."
            body: Any = text if self.flavor.api_version == "2" else {
                "type": "doc", "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
            }  # fmt: skip
            cid = str(int(self.issue_id(state)) * 10 + index)
            values.append(
                {
                    "self": f"{self.base}/rest/api/{self.flavor.api_version}/issue/{self.issue_id(state)}"
                    f"/comment/{cid}",
                    "id": cid, "author": self.user(change.author), "body": body,
                    "updateAuthor": self.user(change.author), "created": self.timestamp(change.at_ms),
                    "updated": self.timestamp(change.at_ms), "jsdPublic": True,
                }
            )  # fmt: skip
        return {
            "comments": values, "self": f"{self.base}/rest/api/{self.flavor.api_version}/issue/"
            f"{self.issue_id(state)}/comment",
            "maxResults": len(values), "total": len(state.history), "startAt": 0,
        }  # fmt: skip


def select_fields(fields: list[str]) -> set[str] | None:
    """``None`` for all fields, else the set of field ids asked for (``-x`` removes ``x``)."""
    return _select_fields(tuple(fields))


@functools.lru_cache(maxsize=64)
def _select_fields(fields: tuple[str, ...]) -> set[str] | None:
    parts = [p.strip() for item in fields for p in item.split(",") if p.strip()]
    if not parts:
        return None
    if any(p in ("*all", "*navigable") for p in parts):
        excluded = {p[1:] for p in parts if p.startswith("-")}
        return None if not excluded else _AllBut(excluded)
    return {p for p in parts if not p.startswith("-")}


class _AllBut(set[str]):
    """'every field except these' — membership is inverted."""

    def __contains__(self, item: object) -> bool:
        return not super().__contains__(item)

    def __sub__(self, other: object) -> set[str]:
        return {"*"}
