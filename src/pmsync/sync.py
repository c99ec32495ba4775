"""The sync engine: stream each source's connector into the store, one transaction per checkpoint.

For each source (``pmsync sync``):

1. take the source's lock (:meth:`Store.source_lock`); if another run holds it, record a ``locked``
   run and move on;
2. open a run in the ledger (closing runs of this source that died without finishing);
3. stream ``connector.extract(cursor)`` from the committed cursor, writing records in batches inside
   an open transaction; at each :class:`~pmsync.connector.Checkpoint` the records, the cursor and the
   run's counts commit together. The end of the stream commits the rest with the last checkpoint's
   cursor. A crash loses only the work since the last checkpoint, and a rerun redoes it;
4. mark the run ``ok``, or ``failed`` with the (redacted) error — the other sources still run.

Every deletion goes through the deletion guard (:class:`pmsync.store.DeletionPolicy`): a run that would
empty a scope or shrink it beyond ``sync.deletion_guard`` fails instead, unless ``allow_deletions``
(``pmsync sync --allow-deletions``) lets this one run through; the ledger notes what was allowed.
``full_refresh`` (``pmsync sync --full-refresh``) starts the connector from an empty cursor, so it
re-reads everything: records deleted in the store but present at the source come back, records gone
from the source are swept (under the guard), and history keeps every earlier version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from pmsync.config import PmsyncConfig, SourceConfig, build_connector
from pmsync.connector import Checkpoint, Cursor, Deleted, Seen, SkippedRow, SnapshotComplete
from pmsync.errors import PmsyncError, SourceDataError, SourceLockedError
from pmsync.extract_process import stream_of
from pmsync.gc_pacing import fewer_collections
from pmsync.logs import redact
from pmsync.model import Record
from pmsync.plausibility import warnings_for
from pmsync.store import (
    MAX_NOTES_IN_LEDGER,
    MAX_SKIPPED_IN_LEDGER,
    DeletionPolicy,
    RunStatus,
    SkippedRowInfo,
    Store,
    StoredRow,
    SyncRunInfo,
    WriteCounts,
    Writer,
)

log = logging.getLogger("pmsync.sync")

#: records (or Seen / Deleted markers) buffered before they are written into the open transaction
BATCH_SIZE = 500


@dataclass(frozen=True)
class SyncProgress:
    """Where a running source is: items read from the connector, and what was written so far."""

    source_name: str
    items: int
    counts: WriteCounts


ProgressCallback = Callable[[SyncProgress], None]


def sync_sources(
    config: PmsyncConfig,
    store: Store,
    source_names: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    allow_deletions: bool = False,
    full_refresh: bool = False,
) -> list[SyncRunInfo]:
    """Sync the named sources (default: every enabled source), one after another.

    Returns one ledger entry per source, in order; a failing or locked source does not stop the rest.
    Unknown source names raise :class:`~pmsync.errors.ConfigError` before anything runs.
    ``allow_deletions`` lets these runs delete past the deletion guard; ``full_refresh`` re-reads
    each source from an empty cursor.
    """
    if source_names is None:
        sources = [s for s in config.sources if s.enabled]
    else:
        sources = [config.source(name) for name in dict.fromkeys(source_names)]
    return [
        sync_source(
            config,
            store,
            source,
            progress,
            batch_size=batch_size,
            allow_deletions=allow_deletions,
            full_refresh=full_refresh,
        )
        for source in sources
    ]


def sync_source(
    config: PmsyncConfig,
    store: Store,
    source: SourceConfig,
    progress: ProgressCallback | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    allow_deletions: bool = False,
    full_refresh: bool = False,
) -> SyncRunInfo:
    """Sync one source under its lock; the returned entry says ``ok``, ``failed`` or ``locked``."""
    lock = store.source_lock(source.name)
    try:
        lock.acquire()
    except SourceLockedError as exc:
        log.warning("%s", exc, extra={"source": source.name, "status": "locked"})
        return store.record_locked_run(source.name, source.type, str(exc))
    try:
        started = store.start_run(source.name, source.type)
        run_id, cursor_before = started.run_id, started.cursor_before
        if started.interrupted:
            log.warning(
                "source %r: %d earlier run(s) ended without finishing; continuing from the last checkpoint",
                source.name,
                started.interrupted,
                extra={"source": source.name},
            )
        guard = source.deletion_guard or config.sync.deletion_guard
        policy = DeletionPolicy(guard.max_share, guard.min_records, allow=allow_deletions)
        source_run = _SourceRun(config, store, source, run_id, cursor_before, progress, batch_size, policy)
        if full_refresh:
            source_run.start_cursor = {}
            source_run.notes.append(
                "full refresh: re-read everything from an empty cursor (the cursor before is kept "
                "in cursor_before)"
            )
        # The run allocates millions of short-lived objects; young-generation collections of them
        # cost much CPU and find little (see pmsync.gc_pacing).
        with fewer_collections():
            source_run.run()
    finally:
        lock.release()
    info = store.get_run(run_id)
    assert info is not None
    if isinstance(source_run.failure, PmsyncError):
        info = info.model_copy(update={"failure_exit_code": source_run.failure.exit_code})
    return info


def describe_error(exc: BaseException) -> str:
    """One redacted line for the ledger: pmsync errors say where and what to do; others their type."""
    if isinstance(exc, PmsyncError):
        text = str(exc)
    elif isinstance(exc, KeyboardInterrupt):
        text = "interrupted (Ctrl-C); work up to the last checkpoint was kept"
    elif isinstance(exc, SystemExit):
        text = "terminated (SIGTERM or exit); work up to the last checkpoint was kept"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact(text)


@dataclass
class _SourceRun:
    """One run of one source: the buffering, checkpointing and bookkeeping of ``sync_source``."""

    config: PmsyncConfig
    store: Store
    source: SourceConfig
    run_id: int
    cursor: Cursor
    progress: ProgressCallback | None
    batch_size: int
    deletion_policy: DeletionPolicy = field(default_factory=DeletionPolicy)
    #: the cursor the connector starts from (``None``: the committed one; ``{}`` for a full refresh)
    start_cursor: Cursor | None = None
    #: the run re-reads everything over stored records (a full refresh, or no cursor)
    rereads: bool = False
    notes: list[str] = field(default_factory=list)
    #: the writer's notes as of the last commit (a rolled-back deletion leaves no note)
    committed_notes: list[str] = field(default_factory=list)
    #: warnings past the ledger's cap, counted
    notes_left_out: int = 0
    committed: WriteCounts = field(default_factory=WriteCounts)
    pending: WriteCounts = field(default_factory=WriteCounts)
    skipped: list[SkippedRowInfo] = field(default_factory=list)
    skipped_count: int = 0
    items: int = 0
    _buffer: list[Any] = field(default_factory=list)
    _buffer_kind: type | None = None
    #: what ended the run early, if anything
    failure: BaseException | None = None

    def run(self) -> None:
        try:
            if self.start_cursor is None and not self.cursor and self.store.count_live(self.source.name):
                # No cursor over stored records (``pmsync state reset``, a lost cursor): this run
                # re-reads everything, and the connector must reconcile, not assume an empty store.
                self.rereads = True
            writer = self.store.writer(self.source.name, self.run_id, deletion_policy=self.deletion_policy)
        except BaseException as exc:
            # The store failed after the run was opened in the ledger (connection lost, disk full):
            # close the entry now rather than leave it "running" until the source's next run.
            self._fail_before_writing(exc)
            return
        try:
            self._stream(writer)
            self._finish(writer, "ok")
        except BaseException as exc:
            self.failure = exc
            log.debug("source %r failed", self.source.name, exc_info=True)
            try:
                writer.rollback()
                stopped = isinstance(exc, KeyboardInterrupt | SystemExit)  # Ctrl-C, SIGTERM
                self._finish(writer, "interrupted" if stopped else "failed", error=describe_error(exc))
            except Exception:  # the store itself is failing; the error is still raised or reported
                log.error("could not record the failure of run %d in the ledger", self.run_id, exc_info=True)
            if not isinstance(exc, Exception):
                raise
        finally:
            writer.close()

    def _fail_before_writing(self, exc: BaseException) -> None:
        self.failure = exc
        log.debug("source %r failed before writing", self.source.name, exc_info=True)
        stopped = isinstance(exc, KeyboardInterrupt | SystemExit)
        try:
            self.store.close_run(
                self.run_id, "interrupted" if stopped else "failed", describe_error(exc), self.cursor
            )
        except Exception:  # the store is still failing; the entry is closed at the source's next run
            log.error("could not record the failure of run %d in the ledger", self.run_id, exc_info=True)
        if not isinstance(exc, Exception):
            raise exc

    def _stream(self, writer: Writer) -> None:
        rereads = self.rereads or self.start_cursor is not None
        connector = build_connector(
            self.config, self.source, full_refresh=rereads, allow_deletions=self.deletion_policy.allow
        )
        start = self.cursor if self.start_cursor is None else self.start_cursor
        with closing(stream_of(connector, dict(start), self.source.name)) as stream:
            for item in stream:
                if item.__class__ is StoredRow:
                    self._take_row(writer, item)
                else:
                    self._take(writer, item)
        self._flush(writer)

    def _take_row(self, writer: Writer, row: StoredRow) -> None:
        """:meth:`_take` for a record from the reading process (the bulk of a file load), as it takes
        one, without its type tests: this runs once per line of a million-line export."""
        self.items += 1
        if self._buffer_kind is not Record:
            if self._buffer_kind is not None:
                self._flush(writer)  # keep the stream's order between kinds
            self._buffer_kind = Record
        self._buffer.append(row)
        if len(self._buffer) >= self.batch_size:
            self._flush(writer)

    def _take(self, writer: Writer, item: Any) -> None:
        self.items += 1
        if isinstance(item, Record | StoredRow | Seen | Deleted):
            if isinstance(item, Record):
                for warning in warnings_for(item):
                    if len(self.notes) < MAX_NOTES_IN_LEDGER:
                        self.notes.append(warning)
                    else:
                        self.notes_left_out += 1
            kind = Record if isinstance(item, Record | StoredRow) else type(item)
            if self._buffer_kind is not None and kind is not self._buffer_kind:
                self._flush(writer)  # keep the stream's order between kinds
            self._buffer_kind = kind
            self._buffer.append(item)
            if len(self._buffer) >= self.batch_size:
                self._flush(writer)
        elif isinstance(item, Checkpoint):
            self._flush(writer)
            self._checkpoint(writer, item.cursor)
        elif isinstance(item, SnapshotComplete):
            # Consecutive sweeps are kept and swept together (set-based): after the records before
            # them, before anything after them, as the stream orders them.
            if self._buffer_kind is not SnapshotComplete:
                self._flush(writer)
            self._buffer_kind = SnapshotComplete
            self._buffer.append(item)
            if len(self._buffer) >= self.batch_size:
                self._flush(writer)
        elif isinstance(item, SkippedRow):
            self.skipped_count += 1
            if len(self.skipped) < MAX_SKIPPED_IN_LEDGER:
                self.skipped.append(SkippedRowInfo(where=item.where, reason=item.reason))
        else:
            raise SourceDataError(
                f"the connector yielded a {type(item).__name__}, which is neither a record nor a "
                "stream marker",
                source=self.source.name,
                hint="this is a bug in the connector",
            )

    def _flush(self, writer: Writer) -> None:
        if not self._buffer:
            return
        if self._buffer_kind is Record:
            self.pending += writer.upsert(self._buffer)
        elif self._buffer_kind is Seen:
            self.pending += writer.mark_seen(self._buffer)
        elif self._buffer_kind is SnapshotComplete:
            self.pending += writer.sweep_scopes((item.scope, item.record_types) for item in self._buffer)
        else:
            self.pending += writer.mark_deleted(self._buffer)
        self._buffer = []
        self._buffer_kind = None
        if self.progress is not None:
            self.progress(SyncProgress(self.source.name, self.items, self.committed + self.pending))

    def _checkpoint(self, writer: Writer, cursor: Cursor) -> None:
        try:
            json.dumps(cursor)
        except (TypeError, ValueError) as exc:
            raise SourceDataError(
                f"checkpoint cursor is not JSON-serializable: {exc}",
                source=self.source.name,
                hint="this is a bug in the connector",
            ) from exc
        writer.checkpoint(
            cursor,
            counts=self.committed + self.pending,
            skipped=self.skipped,
            skipped_count=self.skipped_count,
            notes=self._notes(writer.notes),
        )
        self.committed_notes = list(writer.notes)
        self.committed += self.pending
        self.pending = WriteCounts()
        self.cursor = cursor

    def _notes(self, writer_notes: list[str]) -> list[str]:
        more = [f"... and {self.notes_left_out} more warnings"] if self.notes_left_out else []
        return writer_notes + self.notes + more

    def _finish(self, writer: Writer, status: RunStatus, error: str | None = None) -> None:
        # On success the tail after the last checkpoint commits here, with that checkpoint's cursor.
        counts = self.committed + self.pending if status == "ok" else self.committed
        writer.finish_run(
            status,
            counts=counts,
            skipped=self.skipped,
            skipped_count=self.skipped_count,
            cursor_after=self.cursor,
            error=error,
            notes=self._notes(writer.notes if status == "ok" else self.committed_notes),
        )
        self.committed = counts
        self.pending = WriteCounts()
