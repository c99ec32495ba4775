"""The run ledger (``sync_runs``), committed cursors (``source_state``) and ``publications``."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, select, update

from pmsync import clock
from pmsync.store.engine import write_transaction
from pmsync.store.results import PublicationInfo, RunStatus, SkippedRowInfo, SyncRunInfo, WriteCounts
from pmsync.store.schema import publications, run_seen, source_state, sync_runs

#: skipped rows kept in the ledger per run; the count is always exact
MAX_SKIPPED_IN_LEDGER = 200
#: notes kept in the ledger per run (the last one says how many more there were)
MAX_NOTES_IN_LEDGER = 50


def _run_info(row: RowMapping) -> SyncRunInfo:
    return SyncRunInfo(
        run_id=row["id"],
        source_name=row["source_name"],
        source_type=row["source_type"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        cursor_before=row["cursor_before"],
        cursor_after=row["cursor_after"],
        counts=WriteCounts(
            inserted=row["inserted"],
            updated=row["updated"],
            deleted=row["deleted"],
            unchanged=row["unchanged"],
        ),
        skipped_count=row["skipped_count"],
        skipped=[SkippedRowInfo.model_validate(s) for s in row["skipped"] or []],
        error=row["error"],
        notes=list(row["notes"] or []),
        host=row["host"],
        pid=row["pid"],
    )


def start_run(
    conn: Connection,
    source_name: str,
    source_type: str,
    cursor_before: dict[str, Any] | None,
    status: RunStatus = "running",
) -> int:
    now = clock.now()
    run_id = conn.execute(
        insert(sync_runs)
        .values(
            source_name=source_name,
            source_type=source_type,
            started_at=now,
            finished_at=None if status == "running" else now,
            status=status,
            cursor_before=cursor_before,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
        )
        .returning(sync_runs.c.id)
    ).scalar_one()
    return int(run_id)


def update_run(
    conn: Connection,
    run_id: int,
    *,
    counts: WriteCounts,
    skipped: Sequence[SkippedRowInfo] = (),
    skipped_count: int = 0,
    status: RunStatus | None = None,
    cursor_after: dict[str, Any] | None = None,
    error: str | None = None,
    notes: Sequence[str] = (),
) -> None:
    values: dict[str, Any] = {
        "inserted": counts.inserted,
        "updated": counts.updated,
        "deleted": counts.deleted,
        "unchanged": counts.unchanged,
        "skipped_count": skipped_count,
        "skipped": [s.model_dump() for s in skipped[:MAX_SKIPPED_IN_LEDGER]] or None,
    }
    if status is not None:
        values["status"] = status
        if status != "running":
            values["finished_at"] = clock.now()
            values["cursor_after"] = cursor_after
    if error is not None:
        values["error"] = error
    if notes:
        kept = list(notes[:MAX_NOTES_IN_LEDGER])
        if len(notes) > MAX_NOTES_IN_LEDGER:
            kept.append(f"... and {len(notes) - MAX_NOTES_IN_LEDGER} more notes")
        values["notes"] = kept
    conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values))


def close_interrupted_runs(conn: Connection, source_name: str, current_run: int) -> int:
    """Runs of this source still 'running' died without finishing (we hold the lock): say so."""
    stale = select(sync_runs.c.id).where(
        sync_runs.c.source_name == source_name,
        sync_runs.c.status == "running",
        sync_runs.c.id != current_run,
    )
    conn.execute(delete(run_seen).where(run_seen.c.run_id.in_(stale)))
    result = conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id.in_(stale.scalar_subquery()))
        .values(
            status="failed",
            finished_at=clock.now(),
            error="interrupted: the process ended before the run finished (work up to its last "
            "checkpoint was kept)",
        )
    )
    return result.rowcount


def forget_seen(conn: Connection, run_id: int) -> None:
    conn.execute(delete(run_seen).where(run_seen.c.run_id == run_id))


def sync_runs_list(engine: Engine, limit: int = 20, source_name: str | None = None) -> list[SyncRunInfo]:
    query = select(sync_runs).order_by(sync_runs.c.id.desc()).limit(limit)
    if source_name is not None:
        query = query.where(sync_runs.c.source_name == source_name)
    with engine.connect() as conn:
        return [_run_info(row) for row in conn.execute(query).mappings()]


def get_run(engine: Engine, run_id: int) -> SyncRunInfo | None:
    with engine.connect() as conn:
        row = conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).mappings().first()
    return None if row is None else _run_info(row)


def last_successful_sync(engine: Engine, source_name: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(sync_runs.c.finished_at)
            .where(sync_runs.c.source_name == source_name, sync_runs.c.status == "ok")
            .order_by(sync_runs.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return value


def read_cursor_in(conn: Connection, source_name: str) -> dict[str, Any]:
    value = conn.execute(
        select(source_state.c.cursor).where(source_state.c.source_name == source_name)
    ).scalar_one_or_none()
    return dict(value) if value else {}


def read_cursor(engine: Engine, source_name: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return read_cursor_in(conn, source_name)


def source_state_row(engine: Engine, source_name: str) -> dict[str, Any] | None:
    """The committed cursor of a source with the run that committed it and when, or ``None``."""
    with engine.connect() as conn:
        row = (
            conn.execute(select(source_state).where(source_state.c.source_name == source_name))
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def reset_cursor(engine: Engine, source_name: str) -> bool:
    """Forget a source's committed cursor (its records stay); ``False`` if it had none."""
    with write_transaction(engine) as conn:
        result = conn.execute(delete(source_state).where(source_state.c.source_name == source_name))
    return bool(result.rowcount)


def _publication(row: RowMapping) -> PublicationInfo:
    return PublicationInfo.model_validate(dict(row))


def record_publication(
    engine: Engine,
    *,
    destination: str,
    file_name: str,
    content_hash: str,
    url: str | None = None,
    item_id: str | None = None,
    run_id: int | None = None,
    published_at: datetime | None = None,
    stored_size: int | None = None,
    stored_hash: str | None = None,
) -> PublicationInfo:
    with write_transaction(engine) as conn:
        row = (
            conn.execute(
                insert(publications)
                .values(
                    destination=destination,
                    url=url,
                    item_id=item_id,
                    file_name=file_name,
                    content_hash=content_hash,
                    published_at=published_at or clock.now(),
                    run_id=run_id,
                    stored_size=stored_size,
                    stored_hash=stored_hash,
                )
                .returning(*publications.c)
            )
            .mappings()
            .one()
        )
    return _publication(row)


def find_publication(engine: Engine, destination: str, content_hash: str) -> PublicationInfo | None:
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(publications)
                .where(publications.c.destination == destination, publications.c.content_hash == content_hash)
                .order_by(publications.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    return None if row is None else _publication(row)


def last_published(engine: Engine, name_prefix: str, before: datetime) -> datetime | None:
    """When a file whose name starts with ``name_prefix`` was last published, up to ``before``."""
    escaped = name_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(func.max(publications.c.published_at)).where(
        publications.c.file_name.like(f"{escaped}%", escape="\\"), publications.c.published_at <= before
    )
    with engine.connect() as conn:
        value: datetime | None = conn.execute(query).scalar_one_or_none()
    if value is None:
        return None
    # max() keeps the column's type, so the value comes back as an aware UTC moment on both dialects
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
