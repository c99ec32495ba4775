"""Reading the store at a *valid time* (when facts were true at their source) with what pmsync knew at a
*recorded time* (``known_at``).

Every stored version has a recorded interval ``[valid_from, valid_to)`` in pmsync's own time (when it
was synced and until it was replaced). A report for a period describes the state at the period's status
date (the valid time) using everything pmsync knew when the report was built (the recorded time). For
each record, the version to use is chosen by how its source keeps time
(:data:`pmsync.model.ValidTime`):

- a record carrying ``history`` (Jira's changelog, worklogs): pmsync's latest version, rolled back to
  the valid time with the changes it carries; left out when it did not exist yet. A record deleted at
  its source *after* the valid time still existed then. Any record whose source says it was created
  (``created_at``) after the valid time is left out, whatever its kind.
- ``dated`` (cost lines, baselines): pmsync's latest version, left out when it dates itself after the
  valid time (``began_on``) or when it is deleted by ``known_at`` — a restated export is the latest
  knowledge of the earlier periods too.
- ``snapshot`` (a schedule file's tasks, a Planner task's % complete): the version pmsync held at the
  valid time. A record pmsync did not hold then did not exist then — unless pmsync first read its
  source after the valid time: then the earliest version stands in, and the read notes it
  (:class:`ValidTimeNotes`) so the report can say "as synced 2026-12-03, 3 days after the status
  date".

The rules work on stored payloads (JSON dicts), so a report reads each version once, without building
models it throws away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Select, func, select

from pmsync.model import ValidTime
from pmsync.store.schema import record_versions, records, sync_runs
from pmsync.store.versions import versions


@dataclass(frozen=True)
class StoredVersion:
    """One stored version of a record (see :data:`pmsync.store.versions.VERSION_COLUMNS`)."""

    record_id: int
    source_name: str
    project: str | None
    op: str
    payload: dict[str, Any]
    valid_from: datetime
    valid_to: datetime | None


@dataclass
class ValidTimeNotes:
    """What a valid-time read had to approximate, per source: the earliest snapshot it used that was
    recorded after the valid time, and how many records it read (by project and source)."""

    snapshot_after: dict[str, datetime] = field(default_factory=dict)
    records: dict[tuple[str | None, str], int] = field(default_factory=dict)
    #: when pmsync first read each source (``None``: never), looked up once per report
    first_read: dict[str, datetime | None] = field(default_factory=dict)

    def used(self, version: StoredVersion) -> None:
        key = (version.project, version.source_name)
        self.records[key] = self.records.get(key, 0) + 1

    def start_over(self) -> None:
        """Forget the counts (a forked reader, so that the counts it sends back are of its own reads
        only). The late snapshots and the sources' first reads are kept: they are facts about the
        store, not counts, and :meth:`add` keeps the earliest. Forgetting the late snapshots lost them
        for a forked reader whose own reads did not meet them again (a report's second half of
        project sections showed no "read as saved after the status date" note for such a source)."""
        self.records.clear()

    def add(self, other: ValidTimeNotes) -> None:
        """Note what ``other`` noted too (a forked reader's notes, back in the process it was forked
        from): records counted in both, the earlier late snapshot, first reads known to either."""
        for key, count in other.records.items():
            self.records[key] = self.records.get(key, 0) + count
        for source, moment in other.snapshot_after.items():
            self._snapshot_at(source, moment)
        for source, first in other.first_read.items():
            self.first_read.setdefault(source, first)

    def late_snapshot(self, version: StoredVersion) -> None:
        moment = _moment(version.payload.get("source_modified")) or version.valid_from
        self._snapshot_at(version.source_name, moment)

    def _snapshot_at(self, source: str, moment: datetime) -> None:
        """The earliest late snapshot per source is the one a report names."""
        known = self.snapshot_after.get(source)
        if known is None or moment < known:
            self.snapshot_after[source] = moment


@dataclass(frozen=True)
class ValidTimeRead:
    """What a :meth:`Store.at` view reads: the state valid at ``valid_at`` (``valid_on`` is its date
    in the agency's zone) with what pmsync had recorded by ``known_at``."""

    known_at: datetime
    valid_at: datetime
    valid_on: date
    notes: ValidTimeNotes = field(default_factory=ValidTimeNotes, compare=False)


def _moment(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _day(text: Any) -> date | None:
    return date.fromisoformat(str(text)[:10]) if text else None


def _created_after(payload: dict[str, Any], moment: datetime) -> bool:
    created = _moment(payload.get("created_at"))
    return created is not None and created > moment


def _began_on(payload: dict[str, Any]) -> date | None:
    """:meth:`pmsync.model.CostLine.began_on` on the stored JSON."""
    if payload.get("kind") not in ("actual", "commitment"):
        return None
    return _day(payload.get("posting_date") or payload.get("period"))


def rolled_back(payload: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The payload as it was at ``moment`` (every change after it undone, newest first)."""
    created = _moment(payload.get("created_at"))
    if created is not None and created > moment:
        return None
    timed = [(_moment(change["at"]), change) for change in payload.get("history") or []]
    later = [(at, change) for at, change in timed if at is not None and at > moment]
    if not later:
        return payload
    values = dict(payload)
    for _, change in sorted(later, key=lambda pair: pair[0], reverse=True):  # newest undone first
        values[change["field"]] = change.get("before")
    kept = [(at, change) for at, change in timed if at is None or at <= moment]
    values["history"] = [change for _, change in kept]
    since = max((at for at, _ in kept if at is not None), default=created)
    values["source_modified"] = since.isoformat() if since is not None else None
    return values


def choose(
    stored: Sequence[StoredVersion],
    policy: ValidTime,
    valid_at: datetime,
    valid_on: date,
    *,
    include_deleted: bool = False,
    notes: ValidTimeNotes | None = None,
    source_began: Callable[[str], datetime | None] | None = None,
) -> dict[str, Any] | None:
    """The payload of one record (its versions, oldest first, as known then) valid at ``valid_at``
    (``valid_on`` is that moment's date in the agency's zone), or ``None`` when it was not there.
    ``source_began(source_name)`` tells when pmsync first read a source (see the module's rules)."""
    latest = stored[-1]
    deleted = latest.op == "delete"
    payload: dict[str, Any] | None
    if latest.payload.get("history"):
        if deleted and latest.valid_from <= valid_at and not include_deleted:
            return None  # gone at its source before the valid time
        payload = rolled_back(latest.payload, valid_at)
        chosen = latest
    elif _created_after(latest.payload, valid_at):
        return None  # the source says it did not exist yet
    elif policy == "dated":
        if deleted and not include_deleted:
            return None
        began = _began_on(latest.payload)
        if began is not None and began > valid_on:
            return None
        payload, chosen = latest.payload, latest
    else:
        held = [v for v in stored if v.valid_from <= valid_at]
        if not held:
            began_reading = source_began(latest.source_name) if source_began is not None else None
            if began_reading is not None and began_reading <= valid_at:
                return None  # pmsync read this source then, and the record was not in it
        chosen = held[-1] if held else stored[0]
        if chosen.op == "delete" and not include_deleted:
            return None
        payload = chosen.payload
        if not held and notes is not None:
            notes.late_snapshot(chosen)
    if payload is not None and notes is not None:
        notes.used(chosen)
    return payload


def source_first_read(conn: Connection, source_name: str) -> datetime | None:
    """When pmsync first read ``source_name``: its first sync run, else (records written without a
    run) the oldest version it holds."""
    first: datetime | None = conn.execute(
        select(func.min(sync_runs.c.started_at)).where(sync_runs.c.source_name == source_name)
    ).scalar_one_or_none()
    if first is None:
        # Only stores written without sync runs get here (tests, tools): the scan of ended versions
        # is then acceptable; sync runs answer from the ledger's index.
        oldest = [
            conn.execute(
                select(func.min(table.c[column])).where(table.c.source_name == source_name)
            ).scalar_one_or_none()
            for table, column in ((records, "updated_at"), (record_versions, "valid_from"))
        ]
        first = min((m for m in oldest if m is not None), default=None)
    if first is not None and first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return first


def grouped_versions(rows: Iterator[Any]) -> Iterator[list[StoredVersion]]:
    versions_of = (
        StoredVersion(
            record_id=row.record_id,
            source_name=row.source_name,
            project=row.project,
            op=row.op,
            payload=row.payload,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )
        for row in rows
    )
    for _, group in groupby(versions_of, key=lambda v: v.record_id):
        yield list(group)


@lru_cache(maxsize=8)
def _versions_query(by_project: bool, by_source_name: bool) -> Select[Any]:
    """Built once per filter combination (values bound per read): a report reads once per project and
    record type, and building the union each time cost more than running it."""
    valid = versions(record_type=True, project=by_project, source_name=by_source_name, during=True).subquery()
    return select(valid).order_by(valid.c.record_id, valid.c.valid_from)


def stored_versions(
    conn: Connection,
    record_type: str,
    *,
    first: datetime,
    known_at: datetime,
    project: str | None = None,
    source_name: str | None = None,
) -> Iterator[list[StoredVersion]]:
    """Per record (in id order), its versions recorded by ``known_at`` that were held at some moment
    from ``first`` on, oldest first. Streams: one record's versions in memory at a time."""
    query = _versions_query(project is not None, source_name is not None)
    params: dict[str, Any] = {"record_type": record_type, "first": min(first, known_at), "last": known_at}
    if project is not None:
        params["project"] = project
    if source_name is not None:
        params["source_name"] = source_name
    result = conn.execution_options(yield_per=1000).execute(query, params)
    try:
        yield from grouped_versions(iter(result))
    finally:
        result.close()
