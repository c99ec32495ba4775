"""The Jira connector: full and incremental sync of issues into normalized records.

Incremental sync asks for ``updated >= cursor - overlap`` (in the API user's time zone, at JQL's
minute precision) ordered by ``updated, key``, and yields a :class:`Checkpoint` after every page, so
the store commits page by page and memory stays flat. The cursor holds the latest ``updated`` seen and
the keys seen inside the overlap window, so re-reading the overlap yields nothing that is unchanged.

Deleted issues, and issues moved to a project outside the configured ones, are found by a key-only
scan per project (one scan per record type), ending with :class:`SnapshotComplete` for the project's
scope. A full sync needs no scan (it has just yielded every issue); incremental syncs scan every
``deletion_scan_hours``, so a sync with nothing to do makes a single search request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorContext,
    Cursor,
    ExtractItem,
    Seen,
    SnapshotComplete,
)
from pmsync.errors import (
    AuthError,
    ConfigError,
    MappingError,
    PmsyncError,
    RetriableSourceError,
    SourceDataError,
)
from pmsync.model import StatusCategory

from .client import JiraClient, PagingShifted
from .config import JiraConfig, resolve_auth
from .mapping import RAID_TYPES, JiraMapping, load_jira_mapping, validate_fields
from .normalize import (
    IssueNormalizer,
    changelog_incomplete,
    parse_time,
    worklogs_incomplete,
)

_CATEGORY = {"new": "not_started", "indeterminate": "in_progress", "done": "done"}
#: at most this many keys are kept in the cursor to skip unchanged issues of the overlap window
RECENT_KEYS_LIMIT = 1000
#: how often one sync restarts a pass whose Data Center offset paging shifted before giving up
MAX_RESTARTS = 20
_ALL_RECORD_TYPES = frozenset(("work_item", *RAID_TYPES))
_BASE_FIELDS = (
    "summary", "issuetype", "status", "project", "parent", "created", "updated", "assignee",
    "priority", "duedate", "labels", "resolutiondate", "description", "timespent",
    "timeoriginalestimate", "timeestimate",
)  # fmt: skip


class JiraConnector:
    """Jira Cloud (email + API token) or Data Center (PAT) issues as work items and RAID records."""

    system: ClassVar[str] = "jira"
    Config: ClassVar[type[JiraConfig]] = JiraConfig

    def __init__(self, context: ConnectorContext) -> None:
        if not isinstance(context.config, JiraConfig):
            raise TypeError("JiraConnector needs a JiraConfig")
        self.context = context
        self.config: JiraConfig = context.config
        self.source = context.source_name
        self.mapping, self.mapping_path = load_jira_mapping(
            self.config.mapping_name(), context.mapping_dirs, source=self.source
        )
        #: set by tests to avoid real sleeps between retries
        self.sleep: Any = None

    def _client(self) -> JiraClient:
        auth = resolve_auth(self.config, self.context.base_dir, self.source)
        return JiraClient(self.config, auth, source=self.source, sleep=self.sleep)

    # -- doctor -----------------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        results: list[CheckResult] = []
        try:
            client = self._client()
        except (AuthError, ConfigError) as exc:
            return [CheckResult("sign-in", "fail", exc.message, exc.hint or "")]
        except PmsyncError as exc:
            return [CheckResult("reachable", "fail", exc.message, exc.hint or f"is {self.config.url} right?")]
        try:
            info = client.server_info()
            results.append(
                CheckResult(
                    "reachable",
                    "ok",
                    f"{info.get('serverTitle') or self.config.url} {info.get('version', '')}",
                )
            )
            cloud = info.get("deploymentType") == "Cloud"
            if cloud != (self.config.deployment == "cloud"):
                results.append(
                    CheckResult(
                        "deployment", "warn",
                        f"the server says deploymentType={info.get('deploymentType')!r}",
                        f"set `deployment: {'cloud' if cloud else 'datacenter'}`",
                    )
                )  # fmt: skip
            me = client.myself()
            results.append(CheckResult("sign-in", "ok", f"authenticated as {me.get('displayName')}"))
            for key in self.config.projects:
                try:
                    project = client.project(key)
                    results.append(CheckResult(f"project {key}", "ok", str(project.get("name", ""))))
                except PmsyncError as exc:
                    results.append(
                        CheckResult(
                            f"project {key}", "fail", exc.message,
                            "check the key, and that the account has the Browse Projects permission",
                        )
                    )  # fmt: skip
            try:
                warnings = validate_fields(
                    self.mapping, self.mapping_path, client.fields(), source=self.source
                )
                results.append(CheckResult("mapping", "ok", str(self.mapping_path)))
                results += [CheckResult("mapping", "warn", w) for w in warnings]
            except MappingError as exc:
                results.append(CheckResult("mapping", "fail", exc.message, exc.hint or ""))
        except AuthError as exc:
            results.append(CheckResult("sign-in", "fail", exc.message, exc.hint or ""))
        except PmsyncError as exc:
            results.append(CheckResult("reachable", "fail", exc.message, exc.hint or ""))
        finally:
            client.close()
        return results

    # -- extract ----------------------------------------------------------------------------------
    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        client = self._client()
        try:
            yield from _Run(self, client, cursor).items()
        finally:
            client.close()


class _Run:
    """State of one extract: the pass over changed issues, then (when due) the deletion scan."""

    def __init__(self, connector: JiraConnector, client: JiraClient, cursor: Cursor) -> None:
        self.connector = connector
        self.config = connector.config
        self.mapping: JiraMapping = connector.mapping
        self.source = connector.source
        self.client = client
        self.started = datetime.now(UTC)
        projects = sorted(self.config.projects)
        same_scope = cursor.get("projects") == projects
        self.since = parse_time(cursor.get("updated")) if same_scope else None
        self.recent: dict[str, str] = dict(cursor.get("recent") or {}) if same_scope else {}
        self.last_scan = parse_time(cursor.get("last_scan")) if same_scope else None
        self.projects = projects
        self.max_seen: datetime | None = self.since
        self.seen: dict[str, datetime] = {}  # key → updated, pruned to the overlap window
        self.seen_text: dict[str, str] = {}
        self.last_read: datetime | None = None  # updated of the last issue read in this pass

    # -- setup ----------------------------------------------------------------------------------
    def prepare(self) -> IssueNormalizer:
        me = self.client.myself()
        try:
            self.tz = ZoneInfo(str(me.get("timeZone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = ZoneInfo("UTC")
        validate_fields(self.mapping, self.connector.mapping_path, self.client.fields(), source=self.source)
        categories: dict[str, StatusCategory] = {}
        for status in self.client.statuses():
            key = str((status.get("statusCategory") or {}).get("key", ""))
            if status.get("name") and key in _CATEGORY:
                categories[str(status["name"])] = _CATEGORY[key]  # type: ignore[assignment]
        self.type_names = {n.casefold(): n for n in self.client.issue_type_names()}
        return IssueNormalizer(
            self.mapping,
            source=self.source,
            base_url=self.config.url,
            project_links=self.connector.context.project_links,
            status_categories=categories,
        )

    def jql_time(self, moment: datetime) -> str:
        """JQL dates are minutes in the API user's time zone: round down so nothing is missed."""
        return moment.astimezone(self.tz).strftime('"%Y/%m/%d %H:%M"')

    def projects_clause(self, projects: list[str]) -> str:
        return f"project in ({_jql_list(projects)})"

    # -- the changed-issues pass ----------------------------------------------------------------
    def items(self) -> Iterator[ExtractItem]:
        self.normalizer = self.prepare()
        overlap = timedelta(minutes=self.config.overlap_minutes)
        since = self.since - overlap if self.since is not None else None
        restarts = 0
        while True:
            try:
                yield from self.changed_pass(since)
                break
            except PagingShifted:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise RetriableSourceError(
                        f"issues kept changing while being paged ({restarts} restarts)",
                        source=self.source,
                        hint="the next sync resumes from the last checkpoint",
                    ) from None
                # Everything up to the last issue read is complete; resume from its minute.
                since = self.last_read or since
        scan_due = self.last_scan is None or (
            self.started - self.last_scan >= timedelta(hours=self.config.deletion_scan_hours)
        )
        if self.since is None:
            # A full pass yielded every issue of every project: that is the snapshot, no scan needed.
            for project in self.projects:
                yield SnapshotComplete(scope=f"project:{project}", record_types=_ALL_RECORD_TYPES)
        elif scan_due:
            yield from self.deletion_scan()
        if self.since is None or scan_due:
            self.last_scan = self.started
            yield Checkpoint(self.cursor())

    def changed_pass(self, since: datetime | None) -> Iterator[ExtractItem]:
        jql = self.projects_clause(self.projects)
        if since is not None:
            jql += f" AND updated >= {self.jql_time(since)}"
        jql += " ORDER BY updated ASC, key ASC"
        fields = list(_BASE_FIELDS) + [fid for _, fid in self.mapping.fields.roles()]
        if self.mapping.effort == "worklogs":
            fields.append("worklog")  # up to 20 inline; more are fetched per issue
        for page in self.client.search_pages(
            jql, fields=fields, expand="changelog", page_size=self.config.page_size
        ):
            for raw in page:
                record = self.one(raw)
                if record is not None:
                    yield record
            self.prune()
            yield Checkpoint(self.cursor())

    def one(self, raw: dict[str, Any]) -> Any:
        key = str(raw.get("key") or "")
        updated_text = str((raw.get("fields") or {}).get("updated") or "")
        updated = parse_time(updated_text)
        if not key or updated is None:
            raise SourceDataError(
                "search result without key or updated", source=self.source, record=key or None
            )
        self.last_read = updated
        if self.seen_text.get(key) == updated_text or self.recent.get(key) == updated_text:
            return None  # re-read of the overlap window, unchanged
        self.seen[key], self.seen_text[key] = updated, updated_text
        if self.max_seen is None or updated > self.max_seen:
            self.max_seen = updated
        histories = self.client.full_changelog(key) if changelog_incomplete(raw) else None
        worklog_seconds = None
        if self.mapping.effort == "worklogs" and worklogs_incomplete(raw):
            worklog_seconds = self.client.worklog_seconds(key)
        return self.normalizer.normalize(raw, histories=histories, worklog_seconds=worklog_seconds)

    def prune(self) -> None:
        """Forget keys that no later page or restart can re-read (older than the overlap window)."""
        if self.max_seen is None:
            return
        horizon = self.max_seen - timedelta(minutes=self.config.overlap_minutes + 1)
        stale = [k for k, u in self.seen.items() if u < horizon]
        for key in stale:
            del self.seen[key]
            del self.seen_text[key]
        self.recent = {k: v for k, v in self.recent.items() if (parse_time(v) or horizon) >= horizon}

    def cursor(self) -> Cursor:
        recent: dict[str, str] = {}
        if self.max_seen is not None:
            window = self.max_seen - timedelta(minutes=self.config.overlap_minutes)
            recent = {k: self.seen_text[k] for k, u in self.seen.items() if u >= window}
            recent.update({k: v for k, v in self.recent.items() if k not in recent})
            if len(recent) > RECENT_KEYS_LIMIT:
                recent = {}  # too many to carry: the overlap is re-read, and the store sees no change
        return {
            "updated": self.max_seen.isoformat() if self.max_seen else None,
            "recent": recent,
            "last_scan": self.last_scan.isoformat() if self.last_scan else None,
            "projects": self.projects,
        }

    # -- deletions --------------------------------------------------------------------------------
    def deletion_scan(self) -> Iterator[ExtractItem]:
        """Prove presence of every issue per project and record type, then close each scope."""
        raid_names = {
            raid: [
                self.type_names[n.casefold()]
                for n in self.mapping.raid_names(raid)
                if n.casefold() in self.type_names
            ]
            for raid in RAID_TYPES
        }
        all_raid = [n for names in raid_names.values() for n in names]
        for project in self.projects:
            groups: list[tuple[str, str]] = []
            work_clause = f" AND issuetype not in ({_jql_list(all_raid)})" if all_raid else ""
            groups.append(("work_item", work_clause))
            groups += [
                (raid, f" AND issuetype in ({_jql_list(names)})")
                for raid, names in raid_names.items()
                if names
            ]
            for record_type, clause in groups:
                yield from self.scan(f'project = "{project}"{clause} ORDER BY key ASC', record_type)
            yield SnapshotComplete(
                scope=f"project:{project}", record_types=frozenset(record_type for record_type, _ in groups)
            )

    def scan(self, jql: str, record_type: str) -> Iterator[ExtractItem]:
        size = 5000 if self.client.cloud else 1000
        for attempt in range(MAX_RESTARTS + 1):
            try:
                for page in self.client.search_pages(jql, fields=["id"], expand=None, page_size=size):
                    for raw in page:
                        yield Seen(record_type, self.normalizer.ref(str(raw["key"])))
                return
            except PagingShifted:
                # Seen twice is harmless; missing one would delete a live issue, so re-scan.
                if attempt == MAX_RESTARTS:
                    raise RetriableSourceError(
                        "issues kept changing during the deletion scan", source=self.source
                    ) from None


def _jql_list(names: list[str]) -> str:
    return ", ".join('"' + n.replace('"', '\\"') + '"' for n in names)
