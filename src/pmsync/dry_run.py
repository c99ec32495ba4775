"""``pmsync sync --dry-run``: what a sync would change, with nothing changed.

The source is read exactly as a sync reads it, and its records are written exactly as a sync writes
them (so the counts are the engine's own: inserted, updated, deleted, unchanged), but inside **one
transaction that is rolled back** at the end: records, history, the cursor and the run's ledger row all
disappear. The store is as it was, and the next real sync starts from the same cursor.

While a dry run writes, it holds the store's write transaction for the whole source (SQLite: other
writers wait for it, up to their busy timeout), and it takes the source's lock like a sync, so it never
reads a half-synced source.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pmsync import clock
from pmsync.config import PmsyncConfig, SourceConfig
from pmsync.connector import Cursor
from pmsync.errors import SourceDataError, SourceLockedError
from pmsync.store import Store, SyncRunInfo, WriteCounts, Writer
from pmsync.sync import BATCH_SIZE, _SourceRun, describe_error

log = logging.getLogger("pmsync.sync")


@dataclass
class _RolledBackRun(_SourceRun):
    """A source run whose checkpoints do not commit and whose end rolls everything back."""

    def run(self) -> None:
        writer = self.store.writer(self.source.name)
        try:
            # Seen markers and deletion sweeps are kept per run; the run's row rolls back with the rest
            self.run_id = writer.start_run(self.source.type, self.cursor)
            self._stream(writer)
            self.committed += self.pending
            self.pending = WriteCounts()
        except Exception as exc:
            self.failure = exc
            log.debug("dry run of source %r failed", self.source.name, exc_info=True)
        finally:
            writer.rollback()
            writer.close()

    def _checkpoint(self, writer: Writer, cursor: Cursor) -> None:
        try:
            json.dumps(cursor)
        except (TypeError, ValueError) as exc:
            raise SourceDataError(
                f"checkpoint cursor is not JSON-serializable: {exc}", source=self.source.name
            ) from exc
        self.committed += self.pending
        self.pending = WriteCounts()
        self.cursor = cursor


def dry_run_sources(
    config: PmsyncConfig, store: Store, source_names: list[str] | None = None
) -> list[SyncRunInfo]:
    """One entry per source (default: every enabled one), as ``sync_sources`` returns, with
    ``run_id`` 0: nothing of the run is kept."""
    if source_names is None:
        sources = [s for s in config.sources if s.enabled]
    else:
        sources = [config.source(name) for name in dict.fromkeys(source_names)]
    return [dry_run_source(config, store, source) for source in sources]


def dry_run_source(config: PmsyncConfig, store: Store, source: SourceConfig) -> SyncRunInfo:
    started = clock.now()
    lock = store.source_lock(source.name)
    try:
        lock.acquire()
    except SourceLockedError as exc:
        return SyncRunInfo(
            run_id=0,
            source_name=source.name,
            source_type=source.type,
            started_at=started,
            finished_at=clock.now(),
            status="locked",
            error=str(exc),
        )
    try:
        cursor = store.cursor(source.name)
        run = _RolledBackRun(config, store, source, 0, cursor, None, BATCH_SIZE)
        run.run()
    finally:
        lock.release()
    failure = run.failure
    return SyncRunInfo(
        run_id=0,
        source_name=source.name,
        source_type=source.type,
        started_at=started,
        finished_at=clock.now(),
        status="failed" if failure is not None else "ok",
        counts=run.committed,
        skipped_count=run.skipped_count,
        error=describe_error(failure) if failure is not None else None,
        failure_exit_code=getattr(failure, "exit_code", None),
    )


def dry_run_line(info: SyncRunInfo) -> str:
    """``jira: dry run: would insert 3, update 1, delete 0; 812 unchanged (nothing was written)``."""
    if info.status == "locked":
        return f"{info.source_name}: locked, not read (another run holds its lock)"
    c = info.counts
    if info.status != "ok":
        return f"{info.source_name}: dry run FAILED: {info.error} (nothing was written)"
    skipped = f", {info.skipped_count} skipped" if info.skipped_count else ""
    return (
        f"{info.source_name}: dry run: would insert {c.inserted}, update {c.updated}, delete {c.deleted}; "
        f"{c.unchanged} unchanged{skipped} (nothing was written)"
    )
