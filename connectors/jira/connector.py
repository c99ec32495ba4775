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

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmsync import clock
from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorContext,
    Cursor,
    ExtractItem,
    Seen,
    SnapshotComplete,
)
from pmsync.connector_kit import SourceConnector
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
from .envelope import require_keys
from .fetch import Fetcher
from .history import with_inline_beyond
from .mapping import RAID_TYPES, JiraMapping, ResolvedFields, load_jira_mapping, resolve_fields
from .normalize import (
    IssueNormalizer,
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
    "timeoriginalestimate", "timeestimate", "issuelinks", "fixVersions",
)  # fmt: skip


class JiraConnector(SourceConnector[JiraConfig]):
    """Jira Cloud (email + API token) or Data Center (PAT) issues as work items and RAID records."""

    system: ClassVar[str] = "jira"
    Config: ClassVar[type[JiraConfig]] = JiraConfig

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        # loaded at once, with its path: the doctor and the field resolution name the file
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
                resolved, warnings = resolve_fields(
                    self.mapping, self.mapping_path, client.fields(), source=self.source
                )
                found = "; ".join(f"{role} = {', '.join(ids)}" for role, ids in resolved.ids.items())
                results.append(
                    CheckResult("mapping", "ok", f"{self.mapping_path} ({found or 'no custom fields'})")
                )
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
        self.started = clock.now()
        projects = sorted(self.config.projects)
        same_scope = cursor.get("projects") == projects
        self.since = parse_time(cursor.get("updated")) if same_scope else None
        self.recent: dict[str, str] = dict(cursor.get("recent") or {}) if same_scope else {}
        self.last_scan = parse_time(cursor.get("last_scan")) if same_scope else None
        self.cursor_meta: Any = cursor.get("meta") if same_scope else None
        self.projects = projects
        self.max_seen: datetime | None = self.since
        self.seen: dict[str, datetime] = {}  # key → updated, pruned to the overlap window
        self.seen_text: dict[str, str] = {}
        self.last_read: datetime | None = None  # updated of the last issue read in this pass
        #: issues per "project/record type" at the last full pass or deletion scan: a scan that
        #: finds none where there were some is not believed (see :meth:`deletion_scan`)
        self.counts: dict[str, int] = dict(cursor.get("counts") or {}) if same_scope else {}
        self.full_counts: dict[str, int] = {}
        #: no cursor beyond this moment (see :meth:`changed_pass`)
        self.fence: datetime | None = None

    # -- setup ----------------------------------------------------------------------------------
    def prepare(self) -> IssueNormalizer:
        """The site's metadata (time zone, status categories, the mapping's fields resolved by
        name): from the cursor while younger than ``metadata_ttl_hours`` and made with the same
        mapping, else read from Jira (3 requests) and kept in the cursor."""
        meta = self.cached_metadata() or self.fetch_metadata()
        self.meta = meta
        try:
            self.tz = ZoneInfo(str(meta["tz"]))
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = ZoneInfo("UTC")
        self.type_names: dict[str, str] = {}  # issue type names, read by the deletion scan
        self.fields = ResolvedFields.from_json(meta["fields"]) or ResolvedFields()
        return IssueNormalizer(
            self.mapping,
            source=self.source,
            base_url=self.config.url,
            project_links=self.connector.context.project_links,
            status_categories=dict(meta["categories"]),
            fields=self.fields,
        )

    def mapping_digest(self) -> str:
        text = json.dumps(self.mapping.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def cached_metadata(self) -> dict[str, Any] | None:
        meta = self.cursor_meta
        ttl = timedelta(hours=self.config.metadata_ttl_hours)
        if not isinstance(meta, dict) or not ttl:
            return None
        fetched = parse_time(meta.get("fetched"))
        if fetched is None or not timedelta(0) <= self.started - fetched < ttl:
            return None
        if meta.get("mapping") != self.mapping_digest():
            return None
        if not all(k in meta for k in ("tz", "categories", "fields")):
            return None
        return meta

    def fetch_metadata(self) -> dict[str, Any]:
        me = self.client.myself()
        resolved, _ = resolve_fields(
            self.mapping, self.connector.mapping_path, self.client.fields(), source=self.source
        )
        categories: dict[str, StatusCategory] = {}
        for status in self.client.statuses():
            key = str((status.get("statusCategory") or {}).get("key", ""))
            if status.get("name") and key in _CATEGORY:
                categories[str(status["name"])] = _CATEGORY[key]  # type: ignore[assignment]
        return {
            "fetched": self.started.isoformat(),
            "mapping": self.mapping_digest(),
            "tz": str(me.get("timeZone") or "UTC"),
            "categories": categories,
            "fields": resolved.to_json(),
        }

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
            self.counts = dict(self.full_counts)
            for project in self.projects:
                yield from self.releases(project)
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
        fields = list(_BASE_FIELDS) + self.fields.all_ids()
        if self.mapping.effort == "worklogs":
            fields.append("worklog")  # up to 20 inline; more are fetched per issue
        fetcher = Fetcher(
            self.client,
            concurrency=self.config.concurrency,
            history_fields=self.history_fields,
            waits=self.connector.sleep is None,
        )
        if self.client.cloud and (since is not None or self.config.concurrency == 1):
            pages = fetcher.search_pages(
                jql, fields=fields, expand="changelog", page_size=self.config.page_size
            )
        elif self.client.cloud:
            # Ids are listed first and issues fetched after: one changed meanwhile comes back newer
            # than its place in the list, so the cursor never passes the moment the listing began.
            self.fence = clock.now()
            pages = fetcher.cloud_pages(
                jql, fields=fields, expand="changelog", page_size=self.config.page_size
            )
        else:
            pages = fetcher.offset_pages(
                jql, fields=fields, expand="changelog", page_size=self.config.page_size
            )
        for page, found in pages:
            fresh = [raw for raw in page if self.accept(raw)]
            histories = fetcher.histories(fresh, found)
            for raw in fresh:
                yield self.one(raw, histories.get(str(raw.get("id"))))
            self.prune()
            yield Checkpoint(self.cursor())

    def history_fields(self) -> list[str]:
        """The fields whose histories pmsync reads: a rollback to an earlier status date needs
        more than the status."""
        return list(self.normalizer.history_field_ids)  # resolved once per run by the normalizer

    def accept(self, raw: dict[str, Any]) -> bool:
        """Note an issue of the page; ``False`` for an unchanged re-read of the overlap window."""
        key = str(raw.get("key") or "")
        updated_text = str((raw.get("fields") or {}).get("updated") or "")
        updated = parse_time(updated_text)
        if not key or updated is None:
            raise SourceDataError(
                "search result without key or updated", source=self.source, record=key or None
            )
        self.last_read = updated
        if self.since is None:
            project = key.rsplit("-", 1)[0]
            issue_type = str(((raw.get("fields") or {}).get("issuetype") or {}).get("name") or "")
            group = f"{project}/{self.normalizer.record_type(issue_type)}"
            self.full_counts[group] = self.full_counts.get(group, 0) + 1
        if self.seen_text.get(key) == updated_text or self.recent.get(key) == updated_text:
            return False
        self.seen[key], self.seen_text[key] = updated, updated_text
        if self.fence is not None and updated > self.fence:
            return True  # changed after the listing began: the next sync reads it again anyway
        if self.max_seen is None or updated > self.max_seen:
            self.max_seen = updated
        return True

    def one(self, raw: dict[str, Any], histories: list[dict[str, Any]] | None = None) -> Any:
        if histories is not None and self.client.cloud:
            histories = with_inline_beyond(histories, raw, self.history_fields())
        worklogs = None
        if self.mapping.effort == "worklogs" and worklogs_incomplete(raw):
            worklogs = self.client.worklogs(str(raw.get("key")))
        return self.normalizer.normalize(raw, histories=histories, worklogs=worklogs)

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
            "counts": self.counts,
            "meta": self.meta,
        }

    # -- deletions --------------------------------------------------------------------------------
    def deletion_scan(self) -> Iterator[ExtractItem]:
        """Prove presence of every issue per project and record type, then close each scope."""
        if not self.type_names:  # read here, not at sync start: only the scan needs them
            self.type_names = {n.casefold(): n for n in self.client.issue_type_names()}
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
            found: dict[str, int] = {}
            for record_type, clause in groups:
                group = f"{project}/{record_type}"
                found[group] = 0
                for item in self.scan(f'project = "{project}"{clause} ORDER BY key ASC', record_type):
                    found[group] += 1
                    yield item
                before = self.counts.get(group, 0)
                if found[group] == 0 and before > 0 and not self.connector.context.allow_deletions:
                    # Jira answered "none" where there were some: far more often a permission,
                    # proxy or index problem than a project (or its risk log) emptied overnight.
                    raise SourceDataError(
                        f"the deletion scan found no issues in project {project} ({record_type} "
                        f"records), which had {before} at the last scan; nothing is marked deleted",
                        source=self.source,
                        record=f"project {project}",
                        hint="check the account still has Browse Projects on it; if they really were "
                        "all deleted, run `pmsync sync --allow-deletions` once",
                    )
            self.counts.update({group: n for group, n in found.items() if n})
            yield from self.releases(project)
            yield SnapshotComplete(
                scope=f"project:{project}", record_types=frozenset(record_type for record_type, _ in groups)
            )

    def releases(self, project: str) -> Iterator[ExtractItem]:
        """The project's releases as milestones (with the full pass and each deletion scan, so a
        release is re-read daily and one deleted in Jira is swept). An unreleased version's issues
        come from a keys-only search, one release at a time; a released one's are history."""
        if not self.mapping.releases_as_milestones:
            return
        for version in self.client.project_versions(project):
            if version.get("archived"):
                continue
            issues: list[str] = []
            vid = str(version.get("id") or "")
            if not version.get("released") and vid.isdigit():
                jql = f'project = "{project}" AND fixVersion = {vid} ORDER BY key ASC'
                for item in self.scan(jql, "work_item"):
                    if isinstance(item, Seen):
                        issues.append(item.source.external_id)
            yield self.normalizer.release(version, project, issues)

    def scan(self, jql: str, record_type: str) -> Iterator[ExtractItem]:
        size = 5000 if self.client.cloud else 1000
        for attempt in range(MAX_RESTARTS + 1):
            try:
                # `key`, not `id`: Cloud answers `fields=id` with ids only (its default), and the
                # 5000-per-page size applies to either ("requesting `id` or `key` only").
                for page in self.client.search_pages(jql, fields=["key"], expand=None, page_size=size):
                    require_keys(page, source=self.source, what="deletion scan")
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
