"""The store: current records, append-only history ("as of" reads), run ledger, cursors, publications.

SQLite by default, PostgreSQL for shared use; the schema is managed by Alembic migrations shipped in
``pmsync/store/migrations``. Modules: ``schema`` (tables), ``migrate`` (Alembic), ``engine``
(connections), ``writer`` (batched upserts + history), ``reader`` (typed reads), ``ledger`` (runs,
cursors, publications), ``lock`` (per-source run locks), ``database`` (the :class:`Store` facade).
"""

from pmsync.store.database import Store
from pmsync.store.lock import SourceLock
from pmsync.store.models import PublicationInfo, SkippedRowInfo, SyncRunInfo, WriteCounts
from pmsync.store.writer import Writer

__all__ = [
    "PublicationInfo",
    "SkippedRowInfo",
    "SourceLock",
    "Store",
    "SyncRunInfo",
    "WriteCounts",
    "Writer",
]
