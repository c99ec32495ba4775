"""The store: current records, append-only history ("as of" reads), run ledger, cursors, publications.

SQLite by default, PostgreSQL for shared use; the schema is managed by Alembic migrations shipped in
``pmsync/store/migrations``. Modules: ``schema`` (tables), ``migrate`` (Alembic), ``engine``
(connections), ``writer`` (batched upserts + history), ``reader`` (typed reads), ``totals`` (the
finance ledger summed in SQL for reports), ``ledger`` (runs,
cursors, publications), ``lock`` (per-source run locks), ``database`` (the :class:`Store` facade).

The store is closed: code outside ``pmsync/store/`` imports only the names below (a test in
``tests/core/test_architecture.py`` holds it to that). The sync engine runs through
:meth:`Store.start_run` and :meth:`Writer.checkpoint` / :meth:`Writer.finish_run`; reconcile reads
typed records, also at many moments at once (:meth:`Store.records_at`), and cost lines as totals
(:meth:`Store.cost_totals`).
"""

from pmsync.store.database import Store
from pmsync.store.deletion_guard import DEFAULT_MAX_SHARE, DEFAULT_MIN_RECORDS, DeletionPolicy
from pmsync.store.ledger import MAX_NOTES_IN_LEDGER, MAX_SKIPPED_IN_LEDGER
from pmsync.store.lock import SourceLock
from pmsync.store.payload import EncodedJson, StoredRow, to_row
from pmsync.store.results import (
    PublicationInfo,
    RunStatus,
    SkippedRowInfo,
    StartedRun,
    SyncRunInfo,
    WriteCounts,
)
from pmsync.store.totals import CostTotal, DatedActual, TotalsBy, as_totals
from pmsync.store.writer import Writer

__all__ = [
    "DEFAULT_MAX_SHARE",
    "CostTotal",
    "DatedActual",
    "TotalsBy",
    "DEFAULT_MIN_RECORDS",
    "MAX_NOTES_IN_LEDGER",
    "MAX_SKIPPED_IN_LEDGER",
    "DeletionPolicy",
    "EncodedJson",
    "PublicationInfo",
    "RunStatus",
    "SkippedRowInfo",
    "SourceLock",
    "StartedRun",
    "Store",
    "StoredRow",
    "SyncRunInfo",
    "WriteCounts",
    "Writer",
    "as_totals",
    "to_row",
]
