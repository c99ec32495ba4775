"""Writing records: batched, idempotent upserts with history, in one transaction per commit.

``Writer`` holds one connection and one open write transaction. Everything written through it —
records, deletions, the source's cursor — becomes visible together at :meth:`Writer.commit` (or at
the end of the ``with`` block), and is rolled back together if anything fails. The sync engine commits
at each connector checkpoint; other code (e.g. reconcile capturing a baseline) uses one block:

    with store.writer("pmsync-baselines", run_id=None) as w:
        counts = w.upsert(records)

Unchanged records (same content hash) write nothing to ``records`` or ``record_versions``. Cost
lines also change the totals the writer keeps (:mod:`pmsync.store.cost_deltas`), in the same
transaction.
An update or delete first archives the version the ``records`` row holds into ``record_versions``
(closed now), then changes the row; an insert writes only the row (see :mod:`pmsync.store.versions`).

Two writers must not write the same source at the same time: the sync engine holds the source's lock
(:class:`~pmsync.store.lock.SourceLock`); other writers should take one too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from itertools import islice
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    String,
    and_,
    any_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from pmsync import clock
from pmsync.errors import SourceDataError, StoreError
from pmsync.model import Record, SourceRef
from pmsync.store import cost_deltas, cost_groups, ledger
from pmsync.store.copy_text import NULL, copy_escaped, copy_moment
from pmsync.store.deletion_guard import DeletionPolicy, ScopeLoss, allowed_note, refusal
from pmsync.store.engine import WRITE_TRANSACTION
from pmsync.store.payload import RecordKey, StoredRow, first_string_path, source_key, to_row
from pmsync.store.results import RunStatus, SkippedRowInfo, WriteCounts
from pmsync.store.schema import Id, UTCDateTime, record_versions, records, run_seen, source_state
from pmsync.store.versions import VERSION_COLUMNS, current_version

DEFAULT_BATCH_SIZE = 500
#: how a NUL character appears in a canonical JSON payload
_NUL_ESCAPE = "\\u0000"
T = TypeVar("T")
#: the columns of a new ``records`` row, in the order :meth:`Writer._new_record_values` and
#: :meth:`Writer._new_record_copy_text` give them
_NEW_RECORD_COLUMNS = (
    "record_type, system, instance, external_id, source_key, source_name, project, scope, payload, "
    "content_hash, source_modified, first_seen_run, last_changed_run, updated_at"
)
_EXISTING_COLUMNS = "SELECT id, source_key, content_hash, deleted_at FROM records WHERE source_key"
#: one parameter on PostgreSQL (see :meth:`Writer._one_of`), one placeholder per key on SQLite. The
#: keys go as one JSON array, unpacked by the server: psycopg writes a list parameter as an array
#: in Python, element by element, and that cost a first load of 10^6 lines 2 s of its 5 s of lookups
#: (the writer and the server take turns, so it is 2 s of the load). The index is still used: the
#: unpacked array is computed once, before the scan (an InitPlan).
_PG_EXISTING = f"{_EXISTING_COLUMNS} = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))"
_SQLITE_EXISTING = f"{_EXISTING_COLUMNS} IN ({{marks}})"
_SQLITE_INSERT_RECORD = (
    f"INSERT INTO records ({_NEW_RECORD_COLUMNS}) "
    f"VALUES ({', '.join('?' for _ in _NEW_RECORD_COLUMNS.split(','))})"
)


class SourceKeyed(Protocol):
    """Anything naming a stored record: ``Seen`` / ``Deleted`` markers, or ``(type, SourceRef)`` pairs."""

    @property
    def record_type(self) -> str: ...

    @property
    def source(self) -> SourceRef: ...


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def dialect_insert(conn: Connection, table: Any) -> Any:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support (both dialects spell it the same way)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _key_of(item: SourceKeyed) -> RecordKey:
    return (item.record_type, item.source.system, item.source.instance, item.source.external_id)


class Writer:
    """One write transaction at a time on the store, for records of ``source_name``.

    ``run_id`` (a ``sync_runs`` id, or ``None`` for writes outside a sync) is stamped on history rows;
    :meth:`sweep_scope` needs it, because it deletes what this run did not see.

    Within a run, every deletion is checked against ``deletion_policy``
    (:mod:`pmsync.store.deletion_guard`): a run that would empty a scope or shrink it too much raises
    :class:`~pmsync.errors.MassDeletionError`, and the caller rolls the transaction back. Deletions
    the policy lets through only because it says ``allow`` are listed in :attr:`notes`.
    """

    def __init__(
        self,
        engine: Engine,
        source_name: str,
        run_id: int | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        deletion_policy: DeletionPolicy | None = None,
    ) -> None:
        self.source_name = source_name
        self.run_id = run_id
        self.batch_size = batch_size
        self.deletion_policy = deletion_policy or DeletionPolicy()
        #: what this writer's run should tell in the ledger (deletions allowed past the guard)
        self.notes: list[str] = []
        self._noted_scopes: set[str] = set()
        # The transaction begins at the first write (autobegin), so a connector fetching its first
        # page does not hold SQLite's write lock.
        self._conn = engine.connect().execution_options(**{WRITE_TRANSACTION: True})
        self._now: datetime | None = None
        #: the changes to the cost totals the writer keeps, written at the commit
        self._pending_totals = cost_deltas.PendingTotals()

    # -- transaction control --------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The connection of the open transaction (for ledger updates that must commit with the data)."""
        return self._conn

    @property
    def now(self) -> datetime:
        """The moment this transaction's changes are stamped with (history ``valid_from``)."""
        if self._now is None:
            self._now = clock.now()
        return self._now

    def commit(self) -> None:
        """Make everything written so far durable and visible; the next write starts a new transaction."""
        self._guard(lambda: self._pending_totals.flush(self._conn))
        try:
            self._conn.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"commit failed: {exc}", source=self.source_name) from exc
        self._now = None

    def rollback(self) -> None:
        """Discard everything written since the last commit."""
        self._pending_totals.clear()
        self._conn.rollback()
        self._now = None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self._conn.close()

    # -- records ---------------------------------------------------------------------------------

    def upsert(self, items: Iterable[Record | StoredRow]) -> WriteCounts:
        """Insert new records, update changed ones, skip unchanged ones; history for every change.
        Records may come already in their stored form (from :func:`~pmsync.store.payload.to_row`)."""
        total = WriteCounts()
        for chunk in batched(items, self.batch_size):
            rows = [item if isinstance(item, StoredRow) else to_row(item) for item in chunk]
            for row in rows:
                if _NUL_ESCAPE in row.payload.text:
                    self._refuse_nul(row)
                self._refuse_too_long(row)
            total += self._guard(partial(self._upsert_batch, rows))
        return total

    def _refuse_too_long(self, row: StoredRow) -> None:
        """A key longer than its column is refused on both dialects alike: PostgreSQL's VARCHAR(n)
        refuses it (inside COPY, naming no record), SQLite would store it."""
        record_type, system, instance, external_id = row.key
        # one expression for the common case (checked per record: the loop below cost a first load
        # of 10^6 lines several seconds)
        if (
            len(external_id) <= 512
            and len(row.scope or "") <= 512
            and len(instance) <= 128
            and (row.project is None or len(row.project) <= 128)
            and len(system) <= 64
            and len(record_type) <= 32
        ):
            return
        for name, value, limit in (
            ("record type", record_type, 32),
            ("system", system, 64),
            ("instance", instance, 128),
            ("external id", external_id, 512),
            ("project", row.project or "", 128),
            ("scope", row.scope or "", 512),
        ):
            if len(value) > limit:
                raise SourceDataError(
                    f"{record_type} {external_id[:80]!r}: its {name} has {len(value)} characters, more "
                    f"than the {limit} the store keeps",
                    source=self.source_name,
                    record=external_id[:80],
                    hint="shorten the value at the source (or map a shorter field as the key)",
                )

    def _refuse_nul(self, row: StoredRow) -> None:
        """A NUL character is refused on both dialects alike (PostgreSQL cannot store one in JSON or
        text, SQLite can), naming the record and the field, before anything reaches the database."""
        path = first_string_path(json.loads(row.payload.text), lambda text: "\x00" in text)
        if path is None:
            return  # the text holds a backslash followed by "u0000", not a NUL
        record_type, _, _, external_id = row.key
        raise SourceDataError(
            f"{record_type} {external_id!r}: field {path} contains a NUL character (\\0), which no "
            "store can hold",
            source=self.source_name,
            record=external_id,
            hint="fix the value at the source; nothing of this batch was written",
        )

    def mark_seen(self, items: Iterable[SourceKeyed]) -> WriteCounts:
        """Note that these records still exist unchanged (protects them from :meth:`sweep_scope`,
        as writing them in this run does)."""
        total = WriteCounts()
        for chunk in batched(items, self.batch_size):
            total += self._guard(partial(self._seen_batch, chunk))
        return total

    def mark_deleted(self, items: Iterable[SourceKeyed]) -> WriteCounts:
        """Mark records deleted at their source (kept, with ``deleted_at`` and a history row)."""
        total = WriteCounts()
        for chunk in batched(items, self.batch_size):
            total += self._guard(partial(self._deleted_batch, chunk))
        return total

    def sweep_scope(self, scope: str, record_types: Iterable[str] | None = None) -> WriteCounts:
        """Mark deleted every live record of this source and ``scope`` that this run has not seen."""
        return self.sweep_scopes([(scope, record_types)])

    def sweep_scopes(self, sweeps: Iterable[tuple[str, Iterable[str] | None]]) -> WriteCounts:
        """:meth:`sweep_scope` for many ``(scope, record_types)`` at once, set-based: one statement
        finds the unseen records of up to :attr:`batch_size` scopes, and only those are archived and
        marked deleted. A finance export states thousands of scopes (project x kind x month); one
        statement per scope cost a scan of the source's records each on SQLite, and made a re-sync
        with one changed line take hours (issue 25)."""
        if self.run_id is None:
            raise StoreError(
                "sweep_scope needs a run id (it deletes what the run did not see)", source=self.source_name
            )
        by_types: dict[tuple[str, ...] | None, list[str]] = {}
        for scope, record_types in sweeps:
            types = tuple(sorted(set(record_types))) if record_types is not None else None
            by_types.setdefault(types, []).append(scope)
        total = WriteCounts()
        for types, scopes in by_types.items():
            for chunk in batched(dict.fromkeys(scopes), self.batch_size):
                total += self._guard(partial(self._sweep_batch, chunk, types))
        return total

    def _sweep_batch(self, scopes: list[str], types: tuple[str, ...] | None) -> WriteCounts:
        # A record this run inserted or updated carries the run's id in last_changed_run and has no
        # run_seen row (writing one per new record cost a third of a first load's inserts).
        condition = and_(
            records.c.source_name == self.source_name,
            self._one_of(records.c.scope, scopes, String()),
            records.c.deleted_at.is_(None),
            or_(records.c.last_changed_run.is_(None), records.c.last_changed_run != self.run_id),
            ~exists().where(run_seen.c.run_id == self.run_id, run_seen.c.record_id == records.c.id),
        )
        if types is not None:
            condition = and_(condition, self._one_of(records.c.record_type, list(types), String()))
        # SQLite without statistics planned this on (record_type, project), scanning every record
        # of the type per scope; the scope index is the selective one whatever the statistics say.
        query = select(records.c.id, records.c.scope).where(condition)
        query = query.with_hint(records, "INDEXED BY ix_records_source_name_scope", "sqlite")
        unseen = self._conn.execute(query).all()
        if not unseen:
            return WriteCounts()
        counts = WriteCounts()
        for ids in batched([row.id for row in unseen], self.batch_size):
            counts += self._delete_where(self._one_of(records.c.id, ids, Id))
        self._check_losses(sorted({row.scope for row in unseen}), list(types) if types else None)
        return counts

    def set_cursor(self, cursor: dict[str, Any]) -> None:
        """The source's committed cursor, written in this transaction."""
        values = {
            "source_name": self.source_name,
            "cursor": cursor,
            "run_id": self.run_id,
            "updated_at": self.now,
        }
        stmt = dialect_insert(self._conn, source_state).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[source_state.c.source_name],
            set_={"cursor": stmt.excluded.cursor, "run_id": stmt.excluded.run_id, "updated_at": self.now},
        )
        self._guard(lambda: self._conn.execute(stmt))

    # -- the run ledger, committed with the data ------------------------------------------------

    def start_run(self, source_type: str, cursor_before: dict[str, Any]) -> int:
        """Open a sync run in this writer's transaction (it commits or rolls back with the data: a dry
        run leaves no trace) and stamp this writer's writes with it; returns the run id."""
        self.run_id = ledger.start_run(self._conn, self.source_name, source_type, cursor_before)
        return self.run_id

    def checkpoint(
        self,
        cursor: dict[str, Any],
        *,
        counts: WriteCounts,
        skipped: Sequence[SkippedRowInfo] = (),
        skipped_count: int = 0,
        notes: Sequence[str] = (),
    ) -> None:
        """Commit what was written since the last checkpoint together with the source's new cursor and
        the run's counts so far: a crash after this keeps all three, a crash before it none."""
        self.set_cursor(cursor)
        ledger.update_run(
            self._conn,
            self._run(),
            counts=counts,
            skipped=skipped,
            skipped_count=skipped_count,
            notes=notes,
        )
        self.commit()

    def finish_run(
        self,
        status: RunStatus,
        *,
        counts: WriteCounts,
        cursor_after: dict[str, Any],
        skipped: Sequence[SkippedRowInfo] = (),
        skipped_count: int = 0,
        error: str | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        """End the run in the ledger (``ok``, ``failed`` or ``interrupted``) and commit: on ``ok`` the
        records written since the last checkpoint commit with it (roll back first to keep them out)."""
        run_id = self._run()
        ledger.update_run(
            self._conn,
            run_id,
            counts=counts,
            skipped=skipped,
            skipped_count=skipped_count,
            status=status,
            cursor_after=cursor_after,
            error=error,
            notes=notes,
        )
        ledger.forget_seen(self._conn, run_id)
        self.commit()

    def _run(self) -> int:
        if self.run_id is None:
            raise ValueError("this writer belongs to no sync run (open one with Store.start_run)")
        return self.run_id

    # -- internals -------------------------------------------------------------------------------

    def _guard(self, action: Callable[[], T]) -> T:
        # The bulk inserts talk to the driver directly, so its own errors are caught too.
        driver = self._conn.dialect.dbapi
        assert driver is not None  # an open connection has its driver
        try:
            return action()
        except (IntegrityError, driver.IntegrityError) as exc:
            raise StoreError(
                f"conflicting write: {getattr(exc, 'orig', None) or exc}",
                source=self.source_name,
                hint="another process wrote the same records at the same time; hold the source lock",
            ) from exc
        except (SQLAlchemyError, driver.Error) as exc:
            raise StoreError(f"write failed: {exc}", source=self.source_name) from exc

    def _existing(self, keys: Sequence[RecordKey]) -> dict[RecordKey, Any]:
        """Stored rows for these keys (``id``, ``content_hash``, ``deleted_at`` as the driver reads
        it: only compared with ``None``), looked up by their ``source_key`` on its unique index.

        The statement goes to the driver as is: SQLAlchemy's expanding ``IN`` coerced each of the
        batch's keys in Python, a third of what a first load's lookups cost on SQLite."""
        by_source_key = {source_key(key): key for key in keys}
        if not by_source_key:
            return {}
        params: tuple[Any, ...]
        if self._conn.dialect.name == "postgresql":
            # non-ASCII as is: a database not in UTF-8 refuses \u escapes of it in jsonb
            sql, params = _PG_EXISTING, (json.dumps(list(by_source_key), ensure_ascii=False),)
        else:
            sql = _SQLITE_EXISTING.format(marks=", ".join("?" * len(by_source_key)))
            params = tuple(by_source_key)
        rows = self._conn.exec_driver_sql(sql, params).mappings()
        found: dict[RecordKey, Any] = {by_source_key[row["source_key"]]: row for row in rows}
        return found

    def _one_of(self, column: Any, values: list[Any], element_type: Any) -> Any:
        """``column IN values`` for a batch of values."""
        if self._conn.dialect.name == "postgresql":
            # One array parameter, not one placeholder per value: psycopg parses a statement text in
            # Python and caches only short ones, and parsing a 500-placeholder IN cost more than the
            # lookup itself.
            return column == any_(bindparam(None, values, type_=postgresql.ARRAY(element_type)))
        return column.in_(values)

    def _live_ids(self, items: list[SourceKeyed]) -> list[int]:
        keys = list(dict.fromkeys(_key_of(item) for item in items))
        return [row["id"] for row in self._existing(keys).values() if row["deleted_at"] is None]

    def _seen_batch(self, items: list[SourceKeyed]) -> WriteCounts:
        ids = self._live_ids(items)
        self._note_seen(ids)
        return WriteCounts(unchanged=len(ids))

    def _deleted_batch(self, items: list[SourceKeyed]) -> WriteCounts:
        ids = self._live_ids(items)
        if not ids:
            return WriteCounts()
        scopes = self._conn.execute(
            select(records.c.scope).where(self._one_of(records.c.id, ids, Id)).distinct()
        ).scalars()
        touched = sorted(scopes)
        counts = self._delete_where(self._one_of(records.c.id, ids, Id))
        self._check_losses(touched, None)
        return counts

    def _check_losses(self, scopes: list[str], record_types: list[str] | None) -> None:
        """Raise :class:`~pmsync.errors.MassDeletionError` if this run's deletions so far shrink any
        of ``scopes`` beyond the policy (see :mod:`pmsync.store.deletion_guard`); one grouped query
        for all of them.

        Runs after the delete, inside the same transaction: a refusal rolls it back with the rest.
        Before the run, a scope held its live records and those this run deleted, less those this
        run inserted; after it, its live records."""
        if self.run_id is None or not scopes:
            return
        live = records.c.deleted_at.is_(None)
        deleted_by_run = and_(records.c.deleted_at.is_not(None), records.c.last_changed_run == self.run_id)
        not_new = or_(records.c.first_seen_run.is_(None), records.c.first_seen_run != self.run_id)
        query = (
            select(
                records.c.scope,
                func.count().filter(live),
                func.count().filter(and_(not_new, or_(live, deleted_by_run))),
            )
            .where(records.c.source_name == self.source_name, self._one_of(records.c.scope, scopes, String()))
            .group_by(records.c.scope)
            .with_hint(records, "INDEXED BY ix_records_source_name_scope", "sqlite")
        )
        if record_types is not None:
            query = query.where(records.c.record_type.in_(record_types))
        counted = {scope: (int(after), int(before)) for scope, after, before in self._conn.execute(query)}
        for scope in scopes:
            after, before = counted.get(scope, (0, 0))
            loss = ScopeLoss(scope=scope, before=before, after=after)
            if not loss.too_large(self.deletion_policy):
                continue
            if not self.deletion_policy.allow:
                raise refusal(self.source_name, loss, self.deletion_policy)
            if scope not in self._noted_scopes:
                self._noted_scopes.add(scope)
                self.notes.append(allowed_note(loss))

    def _upsert_batch(self, rows: list[StoredRow]) -> WriteCounts:
        by_key = {row.key: row for row in rows}  # a key twice in one batch: the last one wins
        existing = self._existing(list(by_key))
        new: list[StoredRow] = []
        changed: list[tuple[int, StoredRow]] = []
        seen_ids: list[int] = []
        for key, row in by_key.items():
            stored = existing.get(key)
            if stored is None:
                new.append(row)
            elif stored["content_hash"] != row.content_hash or stored["deleted_at"] is not None:
                changed.append((stored["id"], row))
            else:
                seen_ids.append(stored["id"])
        if new:
            self._insert_new(new)
        if changed:
            self._archive_current(self._one_of(records.c.id, [i for i, _ in changed], Id))
            self._conn.execute(
                update(records)
                .where(records.c.id == bindparam("_id"))
                .values(
                    source_name=bindparam("_source_name"),
                    project=bindparam("_project"),
                    scope=bindparam("_scope"),
                    payload=bindparam("_payload"),
                    content_hash=bindparam("_hash"),
                    source_modified=bindparam("_modified", type_=UTCDateTime()),
                    deleted_at=None,
                    last_changed_run=self.run_id,
                    updated_at=self.now,
                ),
                [
                    {
                        "_id": i,
                        "_source_name": self.source_name,
                        "_project": row.project,
                        "_scope": row.scope,
                        "_payload": row.payload,
                        "_hash": row.content_hash,
                        "_modified": row.source_modified,
                    }
                    for i, row in changed
                ],
            )
        lines = [
            row.facts or cost_groups.facts_of_document(json.loads(row.payload.text), row.project)
            for row in (*new, *(row for _, row in changed))
            if row.key[0] == "cost_line"
        ]
        if lines:
            self._pending_totals.change_all(lines, self.source_name, 1, self.now)
        if len(self._pending_totals) >= cost_deltas.FLUSH_AT_GROUPS:
            self._pending_totals.flush(self._conn)
        self._note_seen(seen_ids)
        return WriteCounts(
            inserted=len(new), updated=len(changed), unchanged=len(by_key) - len(new) - len(changed)
        )

    def _insert_new(self, new: list[StoredRow]) -> None:
        """Insert ``records`` rows for new records (their version is the row itself: no history row).

        Both dialects bypass SQLAlchemy's per-row parameter handling, which cost as much as the
        database's own work for a first load (10^6 finance lines). PostgreSQL: ``COPY ... FROM
        STDIN`` inside this transaction (a pipelined executemany of prepared INSERTs still cost
        psycopg a Python round per row; COPY was 1.6x faster). SQLite: the driver's executemany; the
        moments go through the column type's own bind processing, so they are stored exactly as
        elsewhere."""
        if self._conn.dialect.name == "postgresql":
            driver_connection = self._conn.connection.driver_connection
            with (
                driver_connection.cursor() as cursor,  # type: ignore[union-attr]
                cursor.copy(f"COPY records ({_NEW_RECORD_COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(self._new_record_copy_text(new))
            return
        to_db = UTCDateTime().bind_processor(self._conn.dialect)
        assert to_db is not None

        def as_text(moment: datetime | None) -> str | None:
            # the text sqlite3's datetime adapter writes (``isoformat(" ")``), made here once per
            # moment: the adapter ran for every row's updated_at, a twentieth of a first load's writes
            return None if moment is None else to_db(moment).isoformat(" ")

        self._conn.exec_driver_sql(_SQLITE_INSERT_RECORD, list(self._new_record_values(new, as_text)))

    def _new_record_copy_text(self, new: list[StoredRow]) -> str:
        """The new rows in ``_NEW_RECORD_COLUMNS`` order as ``COPY`` text (:mod:`.copy_text`)."""
        run = NULL if self.run_id is None else str(self.run_id)
        # the columns after the row's own, the same for every row
        shared = f"\t{run}\t{run}\t{copy_moment(self.now)}\n"
        source_name = copy_escaped(self.source_name)
        lines = []
        for row in new:
            record_type, system, instance, external_id = row.key
            lines.append(
                f"{copy_escaped(record_type)}\t{copy_escaped(system)}\t{copy_escaped(instance)}\t"
                f"{copy_escaped(external_id)}\t{copy_escaped(source_key(row.key))}\t{source_name}\t"
                f"{NULL if row.project is None else copy_escaped(row.project)}\t{copy_escaped(row.scope)}\t"
                f"{copy_escaped(row.payload.text)}\t{row.content_hash}\t{copy_moment(row.source_modified)}"
                f"{shared}"
            )
        return "".join(lines)

    def _new_record_values(
        self, new: list[StoredRow], moment: Callable[[datetime | None], Any]
    ) -> Iterator[tuple[Any, ...]]:
        """Each new row's values in ``_NEW_RECORD_COLUMNS`` order; ``moment`` converts datetimes."""
        now = moment(self.now)
        for row in new:
            yield (
                *row.key,
                source_key(row.key),
                self.source_name,
                row.project,
                row.scope,
                row.payload.text,
                row.content_hash,
                moment(row.source_modified),
                self.run_id,
                self.run_id,
                now,
            )

    def _archive_current(self, condition: Any) -> None:
        """Copy the version held by each ``records`` row matching ``condition`` into
        ``record_versions``, closed now; the caller then changes those rows. The cost lines among
        them leave the writer's totals now (:mod:`pmsync.store.cost_deltas`)."""
        cost_deltas.take_current(self._conn, condition, self.now, self._pending_totals)
        self._conn.execute(
            insert(record_versions).from_select(
                VERSION_COLUMNS, current_version(valid_to=self.now).where(condition)
            )
        )

    def _note_seen(self, record_ids: list[int]) -> None:
        if self.run_id is None or not record_ids:
            return
        # One statement per batch with the ids as one parameter, a JSON array unpacked by the
        # database: an executemany of one row per id cost SQLAlchemy's parameter handling per row,
        # the bulk of a re-sync's unchanged lines (and psycopg writes a list as an array in Python).
        ids = json.dumps(record_ids)
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql(
                "INSERT INTO run_seen (run_id, record_id) "
                "SELECT %s, value::bigint FROM jsonb_array_elements_text(%s::jsonb) ON CONFLICT DO NOTHING",
                (self.run_id, ids),
            )
            return
        self._conn.exec_driver_sql(
            "INSERT OR IGNORE INTO run_seen (run_id, record_id) SELECT ?, value FROM json_each(?)",
            (self.run_id, ids),
        )

    def _delete_where(self, condition: Any) -> WriteCounts:
        """Set-based delete of the live records matching ``condition``: close, append, mark."""
        live = and_(condition, records.c.deleted_at.is_(None))
        self._archive_current(live)
        result = self._conn.execute(
            update(records)
            .where(live)
            .values(deleted_at=self.now, last_changed_run=self.run_id, updated_at=self.now)
        )
        return WriteCounts(deleted=result.rowcount)
