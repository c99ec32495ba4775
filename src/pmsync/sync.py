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
from pmsync.logs import redact
from pmsync.model import Record
from pmsync.store import SkippedRowInfo, Store, SyncRunInfo, WriteCounts, Writer, ledger
from pmsync.store.engine import write_transaction
from pmsync.store.payload import StoredRow

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
) -> list[SyncRunInfo]:
    """Sync the named sources (default: every enabled source), one after another.

    Returns one ledger entry per source, in order; a failing or locked source does not stop the rest.
    Unknown source names raise :class:`~pmsync.errors.ConfigError` before anything runs.
    """
    if source_names is None:
        sources = [s for s in config.sources if s.enabled]
    else:
        sources = [config.source(name) for name in dict.fromkeys(source_names)]
    return [sync_source(config, store, source, progress, batch_size=batch_size) for source in sources]


def sync_source(
    config: PmsyncConfig,
    store: Store,
    source: SourceConfig,
    progress: ProgressCallback | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> SyncRunInfo:
    """Sync one source under its lock; the returned entry says ``ok``, ``failed`` or ``locked``."""
    lock = store.source_lock(source.name)
    try:
        lock.acquire()
    except SourceLockedError as exc:
        log.warning("%s", exc, extra={"source": source.name, "status": "locked"})
        return _record_locked_run(store, source, str(exc))
    try:
        with write_transaction(store.engine) as conn:
            cursor_before = ledger.read_cursor_in(conn, source.name)
            run_id = ledger.start_run(conn, source.name, source.type, cursor_before)
            interrupted = ledger.close_interrupted_runs(conn, source.name, run_id)
        if interrupted:
            log.warning(
                "source %r: %d earlier run(s) ended without finishing; continuing from the last checkpoint",
                source.name,
                interrupted,
                extra={"source": source.name},
            )
        source_run = _SourceRun(config, store, source, run_id, cursor_before, progress, batch_size)
        source_run.run()
    finally:
        lock.release()
    info = store.get_run(run_id)
    assert info is not None
    if isinstance(source_run.failure, PmsyncError):
        info = info.model_copy(update={"failure_exit_code": source_run.failure.exit_code})
    return info


def _record_locked_run(store: Store, source: SourceConfig, error: str) -> SyncRunInfo:
    with write_transaction(store.engine) as conn:
        run_id = ledger.start_run(
            conn, source.name, source.type, ledger.read_cursor_in(conn, source.name), status="locked"
        )
        ledger.update_run(conn, run_id, counts=WriteCounts(), error=error)
    info = store.get_run(run_id)
    assert info is not None
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
        writer = self.store.writer(self.source.name, self.run_id)
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

    def _stream(self, writer: Writer) -> None:
        connector = build_connector(self.config, self.source)
        with closing(stream_of(connector, dict(self.cursor), self.source.name)) as stream:
            for item in stream:
                self._take(writer, item)
        self._flush(writer)

    def _take(self, writer: Writer, item: Any) -> None:
        self.items += 1
        if isinstance(item, Record | StoredRow | Seen | Deleted):
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
            self._flush(writer)
            self.pending += writer.sweep_scope(item.scope, item.record_types)
        elif isinstance(item, SkippedRow):
            self.skipped_count += 1
            if len(self.skipped) < ledger.MAX_SKIPPED_IN_LEDGER:
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
        writer.set_cursor(cursor)
        ledger.update_run(
            writer.connection,
            self.run_id,
            counts=self.committed + self.pending,
            skipped=self.skipped,
            skipped_count=self.skipped_count,
        )
        writer.commit()
        self.committed += self.pending
        self.pending = WriteCounts()
        self.cursor = cursor

    def _finish(self, writer: Writer, status: str, error: str | None = None) -> None:
        # On success the tail after the last checkpoint commits here, with that checkpoint's cursor.
        counts = self.committed + self.pending if status == "ok" else self.committed
        ledger.update_run(
            writer.connection,
            self.run_id,
            counts=counts,
            skipped=self.skipped,
            skipped_count=self.skipped_count,
            status="ok" if status == "ok" else "interrupted" if status == "interrupted" else "failed",
            cursor_after=self.cursor,
            error=error,
        )
        ledger.forget_seen(writer.connection, self.run_id)
        writer.commit()
        self.committed = counts
        self.pending = WriteCounts()
