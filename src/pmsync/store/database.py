"""``Store``: the one object the rest of pmsync uses to read and write the database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar, overload

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from pmsync.errors import StoreError
from pmsync.logs import redact
from pmsync.model import CostLine, Record, SourceRef
from pmsync.store import ledger, migrate, reader, totals
from pmsync.store.deletion_guard import DeletionPolicy
from pmsync.store.engine import create_store_engine, lives_in_this_process, write_transaction
from pmsync.store.lock import SourceLock
from pmsync.store.results import PublicationInfo, RunStatus, StartedRun, SyncRunInfo, WriteCounts
from pmsync.store.totals import CostTotal, DatedActual, TotalsBy
from pmsync.store.valid_time import ValidTimeNotes, ValidTimeRead
from pmsync.store.writer import DEFAULT_BATCH_SIZE, Writer

R = TypeVar("R", bound=Record)


class Store:
    """Current records, their history, the run ledger, cursors and publications in one database.

    Open with :meth:`open` (creates or upgrades the schema) and :meth:`close` when done, or use it as
    a context manager. Reads are streamed; writes go through :meth:`writer`.
    """

    def __init__(self, engine: Engine, valid_time: ValidTimeRead | None = None) -> None:
        self.engine = engine
        #: set on a view made by :meth:`at`: every read is then a valid-time read
        self.valid_time = valid_time
        #: a view's cost totals by purpose and project, once read (:meth:`load_cost_totals`)
        self._cost_totals: dict[TotalsBy, dict[str | None, list[CostTotal]]] = {}
        #: projects some of whose cost lines carry a source changelog: their totals are read as lines
        self._rolled_back: set[str | None] = set()
        #: the views whose cost totals are read in the same scans as this one's
        self._read_with: tuple[Store, ...] = (self,)
        #: the purposes read in the same scan as whichever purpose is asked for first
        self._read_together: tuple[TotalsBy, ...] = ()

    def at(self, *, known_at: datetime, valid_at: datetime, valid_on: date) -> Store:
        """A read-only view of the store: records as they were *at their source* at ``valid_at``,
        with everything pmsync had recorded by ``known_at`` (``pmsync.store.valid_time``).
        ``valid_at`` later than ``known_at`` reads at ``known_at`` (nothing later is known)."""
        for moment in (known_at, valid_at):
            if moment.tzinfo is None:
                raise ValueError("valid-time reads need timezone-aware moments")
        return Store(self.engine, ValidTimeRead(known_at, min(valid_at, known_at), valid_on))

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to ``url`` (SQLite path or PostgreSQL) and bring the schema to the latest revision."""
        engine = create_store_engine(url)
        store = cls(engine)
        if upgrade:
            try:
                store.upgrade()
            except BaseException:
                engine.dispose()
                raise
        return store

    @property
    def url(self) -> str:
        """The database URL with the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    # -- read from a forked process ---------------------------------------------------------------

    @property
    def readable_from_a_fork(self) -> bool:
        """Whether a process forked from this one can read the store with connections of its own: a
        PostgreSQL server or an SQLite file, not an in-memory database (it lives in this process)."""
        return not lives_in_this_process(self.engine)

    def continue_in_fork(self) -> None:
        """In a forked child, before its first read: leave the connections it inherited alone (they
        are the parent's, mid-conversation with the database; SQLAlchemy's recipe for ``fork``),
        opening its own; and note only its own reads from here on (:meth:`forked_notes`)."""
        self.engine.dispose(close=False)
        if self.valid_time is not None:
            self.valid_time.notes.start_over()

    def forked_notes(self) -> ValidTimeNotes | None:
        """What this view's reads noted (in a forked child, since :meth:`continue_in_fork`), for the
        parent's :meth:`add_forked_notes`: a report states them (records read, late snapshots)."""
        return self.valid_time.notes if self.valid_time is not None else None

    def add_forked_notes(self, notes: ValidTimeNotes | None) -> None:
        if self.valid_time is not None and notes is not None:
            self.valid_time.notes.add(notes)

    def close(self) -> None:
        if self.valid_time is None:  # a view shares its store's engine
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------------

    def upgrade(self) -> str:
        """Bring the schema to this pmsync's revision; returns the revision the store is now at.

        An unreachable database is "cannot reach the store"; a step that fails on a reachable one (a
        lock held too long, a full disk, an object of pmsync's name made by something else) is "cannot
        migrate", on both dialects alike: the steps run in one transaction, so the store is left at
        the revision it had, with its data.
        """
        before = self.schema_revision()
        try:
            return migrate.upgrade(self.engine)
        except SQLAlchemyError as exc:
            reason = redact(str(getattr(exc, "orig", None) or exc))
            raise StoreError(
                f"cannot migrate the store from revision {before or 'none (empty)'} to "
                f"{migrate.head_revision()}: {reason}",
                record=self.url,
                hint=_migration_hint(reason, before),
            ) from exc

    def schema_revision(self) -> str | None:
        """The schema revision the database is at (``None`` when empty); raises if unreachable."""
        try:
            return migrate.current_revision(self.engine)
        except OperationalError as exc:
            raise StoreError(
                f"cannot reach the store: {redact(str(exc.orig))}",
                record=self.url,
                hint="check store.url in pmsync.yaml and that the database server is running",
            ) from exc

    @staticmethod
    def head_revision() -> str:
        """The newest schema revision this pmsync knows."""
        return migrate.head_revision()

    # -- writing ---------------------------------------------------------------------------------

    def writer(
        self,
        source_name: str,
        run_id: int | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        deletion_policy: DeletionPolicy | None = None,
    ) -> Writer:
        """A write transaction for ``source_name``'s records; use as ``with store.writer(...) as w``.
        A run's deletions are checked against ``deletion_policy`` (default: the guard's defaults)."""
        return Writer(
            self.engine, source_name, run_id, batch_size=batch_size, deletion_policy=deletion_policy
        )

    def start_run(self, source_name: str, source_type: str) -> StartedRun:
        """Open a sync run of ``source_name`` in the ledger, with the committed cursor it starts from.

        Runs of this source still marked running died without finishing (the caller holds the
        source's lock, so nobody else runs it): they are closed as failed, and counted in the result.
        Write the run with :meth:`writer` given the run id; :meth:`Writer.checkpoint` and
        :meth:`Writer.finish_run` update this ledger entry inside the writer's transaction."""
        with write_transaction(self.engine) as conn:
            cursor_before = ledger.read_cursor_in(conn, source_name)
            run_id = ledger.start_run(conn, source_name, source_type, cursor_before)
            interrupted = ledger.close_interrupted_runs(conn, source_name, run_id)
        return StartedRun(run_id=run_id, cursor_before=cursor_before, interrupted=interrupted)

    def close_run(
        self, run_id: int, status: RunStatus, error: str, cursor_after: dict[str, Any] | None = None
    ) -> None:
        """End a run that failed before a writer could record anything (the store failed under it):
        no counts, ``error`` in the ledger, ``cursor_after`` the cursor it started from."""
        with write_transaction(self.engine) as conn:
            ledger.update_run(
                conn, run_id, counts=WriteCounts(), status=status, cursor_after=cursor_after, error=error
            )

    def record_locked_run(self, source_name: str, source_type: str, error: str) -> SyncRunInfo:
        """Record a run that did nothing because another run held the source's lock."""
        with write_transaction(self.engine) as conn:
            cursor = ledger.read_cursor_in(conn, source_name)
            run_id = ledger.start_run(conn, source_name, source_type, cursor, status="locked")
            ledger.update_run(conn, run_id, counts=WriteCounts(), error=error)
        info = self.get_run(run_id)
        assert info is not None  # committed just above
        return info

    def source_lock(self, source_name: str) -> SourceLock:
        """The exclusive lock for syncing ``source_name`` (``with store.source_lock(name):``)."""
        return SourceLock(self.engine, f"source:{source_name}")

    # -- reading ---------------------------------------------------------------------------------

    @overload
    def iter_records(
        self,
        record_type: type[R],
        *,
        project: str | None = None,
        source_name: str | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Iterator[R]: ...

    @overload
    def iter_records(
        self,
        record_type: str,
        *,
        project: str | None = None,
        source_name: str | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Iterator[Record]: ...

    def iter_records(
        self,
        record_type: type[Record] | str,
        *,
        project: str | None = None,
        source_name: str | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Iterator[Record]:
        """Stream records of one type, current or as they were at ``as_of`` (ordered by first insert).

        ``include_deleted`` also yields records deleted at their source (as last seen). On a view made
        by :meth:`at`, ``as_of`` is what pmsync knew (default: the view's ``known_at``) and records are
        as they were at the view's valid time.
        """
        if self.valid_time is not None:
            read = self.valid_time
            return reader.iter_valid(
                self.engine,
                record_type,
                project=project,
                source_name=source_name,
                known_at=as_of or read.known_at,
                valid_at=min(read.valid_at, as_of or read.known_at),
                valid_on=read.valid_on,
                include_deleted=include_deleted,
                notes=read.notes,
            )
        return reader.iter_records(
            self.engine,
            record_type,
            project=project,
            source_name=source_name,
            as_of=as_of,
            include_deleted=include_deleted,
        )

    @overload
    def get_record(
        self,
        record_type: type[R],
        source: SourceRef,
        *,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> R | None: ...

    @overload
    def get_record(
        self,
        record_type: str,
        source: SourceRef,
        *,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Record | None: ...

    def get_record(
        self,
        record_type: type[Record] | str,
        source: SourceRef,
        *,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Record | None:
        """One record by its source reference, current or at ``as_of``; ``None`` if absent then."""
        return reader.get_record(
            self.engine, record_type, source, as_of=as_of, include_deleted=include_deleted
        )

    def newest_write(self, record_types: Sequence[str], before: datetime) -> datetime | None:
        """When pmsync last wrote one of ``record_types`` (e.g. a baseline captured or approved outside
        any sync run), up to ``before``."""
        return reader.newest_write(self.engine, record_types, before)

    def records_at(
        self, model: type[R], project: str, moments: Sequence[datetime]
    ) -> Iterator[list[R | None]]:
        """Per record of ``project`` (in id order), what it was at each of ``moments`` (ascending), or
        ``None`` where it was not there: one pass over the history for many moments (the S-curve),
        each distinct version decoded once. On a view (:meth:`at`), the moments are valid times read
        with the view's knowledge."""
        return reader.records_at(self.engine, model, project, moments, self.valid_time)

    def cost_totals(
        self, project: str | None = None, *, as_of: datetime | None = None, by: TotalsBy = "period"
    ) -> list[CostTotal]:
        """Cost lines summed by the database for one purpose (``by``, see :mod:`pmsync.store.totals`):
        of ``project`` (or all), current or held at ``as_of``, dates exact. On a view, as the view
        reads them (valid then, known at its ``known_at``; another ``as_of`` reads the lines
        themselves), dates by month and side of the status dates; the view's first call for a
        purpose reads every project's totals in one scan, with those of the views it was loaded
        with (:meth:`load_cost_totals`), and later calls answer from them."""
        read = self.valid_time
        if read is None:
            return [g.total for g in totals.grouped_totals(self.engine, [as_of], project, by=by)]
        if as_of is not None and as_of != read.known_at:
            # another moment than the view's own: read the lines (no report does this)
            return totals.as_totals(self.iter_records(CostLine, project=project, as_of=as_of))
        if by not in self._cost_totals:
            self._read_with[0]._load(by)
        found = self._cost_totals[by]
        if project in self._rolled_back:
            # A line with a source changelog is rolled back field by field: read as lines (rare).
            return totals.as_totals(self.iter_records(CostLine, project=project))
        if project is None:
            return [t for key, listed in found.items() if key not in self._rolled_back for t in listed]
        return found.get(project, [])

    def unowned_cost_lines(self, owned: Sequence[str], *, as_of: datetime) -> Iterator[CostLine]:
        """The cost lines held at ``as_of`` (on a view: its ``known_at``, valid at its valid time)
        that no project of ``owned`` carries, as lines (unowned spend names them); the ledger's
        other lines are not read."""
        read = self.valid_time
        return totals.unowned_lines(self.engine, owned, read.known_at if read else as_of, read)

    def changed_actuals(
        self, projects: Sequence[str] | None, since: datetime, until: datetime, through: date
    ) -> Iterator[tuple[DatedActual | None, DatedActual | None]]:
        """The actual cost lines dated by ``through`` of ``projects`` (``None``: every project's),
        in one read, whose version changed between the two moments (recorded time), each as it was
        at ``since`` and at ``until`` (``None``: not then). Lines held unchanged are not read
        (:func:`pmsync.store.totals.changed_actuals`)."""
        return totals.changed_actuals(self.engine, projects, since, until, through)

    def work_items_link_elsewhere(self) -> bool:
        """Whether any stored work item links to another system: only then is the spend by task
        code (``cost_totals(by="task_code")``) asked for (:func:`totals.work_items_link_elsewhere`)."""
        return totals.work_items_link_elsewhere(self.engine)

    def load_cost_totals(
        self, *others: Store, together: Sequence[TotalsBy] = (), read_now: bool = False
    ) -> None:
        """Read this view's cost totals and those of ``others`` (views of the same store) together
        from now on: each purpose's totals of all of them come from one scan of the ledger, and
        the purposes in ``together`` (those the caller knows it will ask for) come from the scan
        of the first purpose any of them asks for, whichever it is. ``read_now``: that scan is
        made here, not at the first ask (before the views are shared with a forked process, which
        would otherwise scan the ledger again for itself)."""
        views = (self, *others)
        if any(v.valid_time is None for v in views):
            raise ValueError("cost totals are loaded for views made by Store.at")
        for view in views:
            view._read_with = views
            view._read_together = tuple(together)
        if read_now and together:
            self._load(together[0])

    def _load(self, by: TotalsBy) -> None:
        views = self._read_with
        reads = [v.valid_time for v in views if v.valid_time is not None]
        cutoffs = sorted({read.valid_on for read in reads})
        # a purpose some view lacks (a view may have read one on its own before it was joined);
        # only the views that lack it take the result, so that none counts its lines twice
        lacking = {
            p: {i for i, view in enumerate(views) if p not in view._cost_totals}
            for p in dict.fromkeys((by, *self._read_together))
        }
        purposes = [p for p, indexes in lacking.items() if indexes]
        if not purposes:
            return
        found: dict[TotalsBy, list[dict[str | None, list[CostTotal]]]] = {
            p: [{} for _ in views] for p in purposes
        }
        moments: list[datetime | None] = [read.known_at for read in reads]
        for grouped in totals.grouped_totals(self.engine, moments, by=purposes, cutoffs=cutoffs):
            for index, (read, held) in enumerate(zip(reads, grouped.held, strict=True)):
                if index not in lacking[grouped.by]:
                    continue
                if not held or not totals.valid_then(grouped, read, read.valid_at):
                    continue
                project = grouped.total.project
                found[grouped.by][index].setdefault(project, []).append(grouped.total)
                if grouped.by == "period":  # every line is in these: count them once
                    totals.note_used(read.notes, grouped.total)
                if grouped.has_history:
                    views[index]._rolled_back.add(project)
        for purpose, by_view in found.items():
            for index, (view, by_project) in enumerate(zip(views, by_view, strict=True)):
                if index in lacking[purpose]:
                    view._cost_totals[purpose] = by_project

    # -- run ledger, cursors, publications -------------------------------------------------------

    def source_state(self, source_name: str) -> dict[str, Any] | None:
        """``{cursor, run_id, updated_at}`` of a source's committed cursor, or ``None`` if it has none."""
        return ledger.source_state_row(self.engine, source_name)

    def reset_cursor(self, source_name: str) -> bool:
        """Forget a source's committed cursor, keeping its records; hold the source's lock."""
        return ledger.reset_cursor(self.engine, source_name)

    def live_projects(self) -> dict[str, set[str]]:
        """The project keys each source's live records carry."""
        return reader.live_projects(self.engine)

    def count_live(self, source_name: str) -> int:
        """How many records of a source are live (e.g. to say what an unchanged run kept)."""
        return reader.count_live(self.engine, source_name)

    def sync_runs(self, limit: int = 20, source_name: str | None = None) -> list[SyncRunInfo]:
        """The most recent runs first."""
        return ledger.sync_runs_list(self.engine, limit=limit, source_name=source_name)

    def get_run(self, run_id: int) -> SyncRunInfo | None:
        return ledger.get_run(self.engine, run_id)

    def last_successful_sync(self, source_name: str) -> datetime | None:
        """When the last successful run of ``source_name`` finished."""
        return ledger.last_successful_sync(self.engine, source_name)

    def cursor(self, source_name: str) -> dict[str, Any]:
        """The committed cursor of ``source_name`` (``{}`` before its first checkpoint)."""
        return ledger.read_cursor(self.engine, source_name)

    def record_publication(
        self,
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
        return ledger.record_publication(
            self.engine,
            destination=destination,
            file_name=file_name,
            content_hash=content_hash,
            url=url,
            item_id=item_id,
            run_id=run_id,
            published_at=published_at,
            stored_size=stored_size,
            stored_hash=stored_hash,
        )

    def last_published(self, name_prefix: str, before: datetime) -> datetime | None:
        """When a file named ``name_prefix...`` (e.g. ``report-2026-10``) was last published, up to
        ``before``: the moment a committee last saw that period's report."""
        return ledger.last_published(self.engine, name_prefix, before)

    def find_publication(self, destination: str, content_hash: str) -> PublicationInfo | None:
        """The latest publication of this exact content to ``destination``, if any."""
        return ledger.find_publication(self.engine, destination, content_hash)


def _migration_hint(reason: str, before: str | None) -> str:
    kept = f"nothing was changed (the store is still at revision {before or 'none'})"
    if "locked" in reason.lower():
        return f"{kept}; another process held the store's write lock: run again when it has finished"
    return f"{kept}; fix what the message names, then run `pmsync db upgrade`"
