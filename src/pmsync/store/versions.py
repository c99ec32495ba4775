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
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Select, bindparam, case, exists, literal, null, select, union_all

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


@lru_cache(maxsize=64)
def versions(
    *,
    record_type: bool = False,
    project: bool = False,
    source_name: bool = False,
    source_key: bool = False,
    during: bool = False,
    include_deleted: bool = True,
) -> CompoundSelect[Any]:
    """Every version matching the chosen filters (``VERSION_COLUMNS``), from both tables.

    Each filter chosen becomes a bind parameter of the same name, given when executing:
    ``record_type``, ``project``, ``source_name``, ``source_key`` (one record) and, for ``during``,
    ``first`` and ``last``: the versions valid at some moment between them (both included; the same
    moment twice gives the one version of each record valid then). ``include_deleted=False`` leaves
    out versions that began with a delete. The filters apply to each table's own columns (not to the
    union), so each side uses its own indexes.

    The statement is built once per combination of filters: a report reads the history once per
    project and source, and building the union each time cost more than running it.
    """
    v, r = record_versions, records
    archived = select(*(v.c[name] for name in VERSION_COLUMNS))
    current = current_version()
    if record_type:
        archived = archived.where(v.c.record_type == bindparam("record_type"))
        current = current.where(r.c.record_type == bindparam("record_type"))
    if project:
        archived = archived.where(v.c.project == bindparam("project"))
        current = current.where(r.c.project == bindparam("project"))
    if source_name:
        archived = archived.where(v.c.source_name == bindparam("source_name"))
        current = current.where(r.c.source_name == bindparam("source_name"))
    if source_key:
        record_id = select(r.c.id).where(r.c.source_key == bindparam("source_key")).scalar_subquery()
        archived = archived.where(v.c.record_id == record_id)
        current = current.where(r.c.source_key == bindparam("source_key"))
    if during:
        archived = archived.where(v.c.valid_from <= bindparam("last"), v.c.valid_to > bindparam("first"))
        current = current.where(r.c.updated_at <= bindparam("last"))
    if not include_deleted:
        archived = archived.where(v.c.op != "delete")
        current = current.where(r.c.deleted_at.is_(None))
    return union_all(archived, current)
