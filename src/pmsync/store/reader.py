"""Reading records back as typed models: current state, or exactly as they were at a past moment."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, bindparam, func, select

from pmsync.model import Record, SourceRef
from pmsync.store.payload import from_payload, model_for, source_key, type_name
from pmsync.store.schema import records
from pmsync.store.valid_time import (
    ValidTimeNotes,
    ValidTimeRead,
    choose,
    source_first_read,
    stored_versions,
)
from pmsync.store.versions import versions

#: rows fetched per round trip when streaming (server-side cursor on PostgreSQL)
YIELD_PER = 1000


# The statements are built once per combination of filters, their values bound when executed: a
# report reads once per project and source, and building a statement cost more than running it.


@lru_cache(maxsize=16)
def _current_query(by_project: bool, by_source_name: bool, include_deleted: bool) -> Select[Any]:
    query = select(records.c.id, records.c.payload).where(records.c.record_type == bindparam("record_type"))
    if by_project:
        query = query.where(records.c.project == bindparam("project"))
    if by_source_name:
        query = query.where(records.c.source_name == bindparam("source_name"))
    if not include_deleted:
        query = query.where(records.c.deleted_at.is_(None))
    return query.order_by(records.c.id)


@lru_cache(maxsize=16)
def _as_of_query(by_project: bool, by_source_name: bool, include_deleted: bool) -> Select[Any]:
    valid = versions(
        record_type=True,
        project=by_project,
        source_name=by_source_name,
        during=True,
        include_deleted=include_deleted,
    ).subquery()
    return select(valid.c.record_id, valid.c.payload).order_by(valid.c.record_id)


def iter_records(
    engine: Engine,
    record_type: type[Record] | str,
    *,
    project: str | None = None,
    source_name: str | None = None,
    as_of: datetime | None = None,
    include_deleted: bool = False,
) -> Iterator[Record]:
    model = model_for(record_type)
    name = type_name(model)
    params: dict[str, Any] = {"record_type": name}
    if project is not None:
        params["project"] = project
    if source_name is not None:
        params["source_name"] = source_name
    if as_of is None:
        query = _current_query(project is not None, source_name is not None, include_deleted)
    else:
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        query = _as_of_query(project is not None, source_name is not None, include_deleted)
        params |= {"first": as_of, "last": as_of}
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=YIELD_PER).execute(query, params)
        try:
            for record_id, payload in result:
                yield from_payload(model, payload, f"{name} #{record_id}")
        finally:
            # A caller that stops early must not leave a PostgreSQL server-side cursor open.
            result.close()


def iter_valid(
    engine: Engine,
    record_type: type[Record] | str,
    *,
    project: str | None,
    source_name: str | None,
    known_at: datetime,
    valid_at: datetime,
    valid_on: date,
    include_deleted: bool,
    notes: ValidTimeNotes | None,
) -> Iterator[Record]:
    """Records as they were at their source at ``valid_at``, with what was recorded by ``known_at``
    (the rules are in :mod:`pmsync.store.valid_time`)."""
    if known_at.tzinfo is None or valid_at.tzinfo is None:
        raise ValueError("valid-time reads need timezone-aware moments")
    model = model_for(record_type)
    name = type_name(model)
    notes = notes if notes is not None else ValidTimeNotes()
    with engine.connect() as conn:

        def first_read(source: str) -> datetime | None:
            if source not in notes.first_read:
                notes.first_read[source] = source_first_read(conn, source)
            return notes.first_read[source]

        for stored in stored_versions(
            conn, name, first=valid_at, known_at=known_at, project=project, source_name=source_name
        ):
            payload = choose(
                stored,
                model.valid_time,
                valid_at,
                valid_on,
                include_deleted=include_deleted,
                notes=notes,
                source_began=first_read,
            )
            if payload is not None:
                yield from_payload(model, payload, f"{name} #{stored[0].record_id}")


R = TypeVar("R", bound=Record)


def records_at(
    engine: Engine,
    model: type[R],
    project: str,
    moments: Sequence[datetime],
    valid_time: ValidTimeRead | None,
) -> Iterator[list[R | None]]:
    """See :meth:`pmsync.store.Store.records_at`."""
    if not moments:
        return
    known_at = valid_time.known_at if valid_time is not None else moments[-1]
    record_type = type_name(model)
    with engine.connect() as conn:
        for stored in stored_versions(
            conn, record_type, first=moments[0], known_at=known_at, project=project
        ):
            if valid_time is None:  # recorded time: the version held at each moment
                payloads = [_held_at(stored, moment) for moment in moments]
            else:
                payloads = [
                    choose(stored, model.valid_time, min(moment, known_at), moment.date())
                    if moment <= known_at
                    else choose(stored, model.valid_time, known_at, known_at.date())
                    for moment in moments
                ]
            yield _decoded(model, payloads, f"{record_type} #{stored[0].record_id}")


def _decoded(model: type[R], payloads: list[dict[str, Any] | None], where: str) -> list[R | None]:
    # Consecutive moments mostly see the same version: decode each distinct payload once (comparing
    # dicts costs far less than validating a model).
    out: list[R | None] = []
    last_payload: dict[str, Any] | None = None
    last: R | None = None
    for payload in payloads:
        if payload is None:
            out.append(None)
            continue
        if last is None or payload != last_payload:
            decoded = from_payload(model, payload, where)
            assert isinstance(decoded, model)
            last, last_payload = decoded, payload
        out.append(last)
    return out


def _held_at(stored: Sequence[Any], moment: datetime) -> dict[str, Any] | None:
    for version in stored:
        if version.valid_from <= moment and (version.valid_to is None or version.valid_to > moment):
            return None if version.op == "delete" else dict(version.payload)
    return None


def get_record(
    engine: Engine,
    record_type: type[Record] | str,
    source: SourceRef,
    *,
    as_of: datetime | None = None,
    include_deleted: bool = False,
) -> Record | None:
    model = model_for(record_type)
    name = type_name(model)
    key = source_key((name, source.system, source.instance, source.external_id))
    with engine.connect() as conn:
        if as_of is None:
            query = select(records.c.payload).where(records.c.source_key == key)
            if not include_deleted:
                query = query.where(records.c.deleted_at.is_(None))
            payload = conn.execute(query).scalar_one_or_none()
        else:
            valid = versions(source_key=True, during=True, include_deleted=include_deleted).subquery()
            params = {"source_key": key, "first": as_of, "last": as_of}
            payload = conn.execute(select(valid.c.payload).limit(1), params).scalar_one_or_none()
    return None if payload is None else from_payload(model, payload, f"{name} {source.key()}")


def count_live(engine: Engine, source_name: str) -> int:
    """How many records of ``source_name`` are live (not deleted at the source)."""
    query = (
        select(func.count())
        .select_from(records)
        .where(records.c.source_name == source_name, records.c.deleted_at.is_(None))
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def newest_write(engine: Engine, record_types: Sequence[str], before: datetime) -> datetime | None:
    """The newest current version of these record types written at or before ``before``."""
    query = select(func.max(records.c.updated_at)).where(
        records.c.record_type.in_(list(record_types)), records.c.updated_at <= before
    )
    with engine.connect() as conn:
        value: datetime | None = conn.execute(query).scalar_one_or_none()
    return value


def live_projects(engine: Engine) -> dict[str, set[str]]:
    """The pmsync project keys each source's live records carry (``pmsync doctor``'s link check)."""
    query = (
        select(records.c.source_name, records.c.project)
        .where(records.c.deleted_at.is_(None), records.c.project.is_not(None))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for source_name, project in conn.execute(query):
            found.setdefault(source_name, set()).add(project)
    return found
