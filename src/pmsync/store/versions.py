"""A record's versions over time, as one query: superseded versions from ``record_versions``, the
version in force from ``records`` itself.

A version is valid over ``[valid_from, valid_to)``. Once a record changes or is deleted, the version
it replaces is copied into ``record_versions`` with its end; the version in force is the ``records``
row, valid from its ``updated_at`` with no end. Storing the open version once (not in both tables)
halves what a first load writes: a 10^6-line finance export no longer copies every payload twice.

``op`` says how a version began: ``insert``, ``update`` (a change, or a deleted record coming back)
or ``delete`` (the record was deleted at its source; the version keeps its last payload).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, Select, case, exists, literal, null, select, union_all

from pmsync.store.schema import UTCDateTime, record_versions, records

#: the columns of a version, in the order :func:`versions` and :func:`current_version` give them
VERSION_COLUMNS = (
    "record_id",
    "record_type",
    "source_name",
    "project",
    "run_id",
    "op",
    "payload",
    "content_hash",
    "valid_from",
    "valid_to",
)


def _op_of_current() -> Any:
    """How the ``records`` row's version began: a deleted record's is a delete; a record with
    earlier versions was changed (or came back); otherwise it was inserted."""
    return case(
        (records.c.deleted_at.is_not(None), literal("delete")),
        (exists().where(record_versions.c.record_id == records.c.id), literal("update")),
        else_=literal("insert"),
    )


def current_version(valid_to: datetime | None = None) -> Select[Any]:
    """The version each ``records`` row holds, as a row of ``record_versions`` (``VERSION_COLUMNS``);
    with ``valid_to`` it is the closed copy a writer archives before changing the row."""
    end = null() if valid_to is None else literal(valid_to, UTCDateTime())
    return select(
        records.c.id.label("record_id"),
        records.c.record_type,
        records.c.source_name,
        records.c.project,
        records.c.last_changed_run.label("run_id"),
        _op_of_current().label("op"),
        records.c.payload,
        records.c.content_hash,
        records.c.updated_at.label("valid_from"),
        end.label("valid_to"),
    )


def versions(
    record_type: str | None = None,
    *,
    project: str | None = None,
    source_name: str | None = None,
    record_id: Any = None,
    during: tuple[datetime, datetime] | None = None,
    include_deleted: bool = True,
) -> CompoundSelect:
    """Every version matching the filters (``VERSION_COLUMNS``), from both tables.

    ``during=(first, last)`` keeps the versions valid at some moment between ``first`` and ``last``
    (both included); ``(moment, moment)`` is the one version of each record valid at ``moment``.
    ``include_deleted=False`` leaves out versions that began with a delete. The filters are applied
    to each table's own columns (not to the union), so each side uses its own indexes.
    """
    v = record_versions
    archived = select(*(v.c[name] for name in VERSION_COLUMNS)).where(
        *_matching(
            v.c.record_type,
            v.c.project,
            v.c.source_name,
            v.c.record_id,
            v.c.valid_from,
            record_type,
            project,
            source_name,
            record_id,
            during,
        )
    )
    if during is not None:
        archived = archived.where(v.c.valid_to > during[0])
    if not include_deleted:
        archived = archived.where(v.c.op != "delete")
    r = records
    current = current_version().where(
        *_matching(
            r.c.record_type,
            r.c.project,
            r.c.source_name,
            r.c.id,
            r.c.updated_at,
            record_type,
            project,
            source_name,
            record_id,
            during,
        )
    )
    if not include_deleted:
        current = current.where(r.c.deleted_at.is_(None))
    return union_all(archived, current)


def _matching(
    type_column: Any,
    project_column: Any,
    source_name_column: Any,
    record_id_column: Any,
    valid_from_column: Any,
    record_type: str | None,
    project: str | None,
    source_name: str | None,
    record_id: Any,
    during: tuple[datetime, datetime] | None,
) -> list[Any]:
    conditions = []
    if record_type is not None:
        conditions.append(type_column == record_type)
    if project is not None:
        conditions.append(project_column == project)
    if source_name is not None:
        conditions.append(source_name_column == source_name)
    if record_id is not None:
        conditions.append(record_id_column == record_id)
    if during is not None:
        conditions.append(valid_from_column <= during[1])
    return conditions
