"""``Store``: the one object the rest of pmsync uses to read and write the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar, overload

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from pmsync.errors import StoreError
from pmsync.logs import redact
from pmsync.model import Record, SourceRef
from pmsync.store import ledger, migrate, reader
from pmsync.store.deletion_guard import DeletionPolicy
from pmsync.store.engine import create_store_engine, normalize_url
from pmsync.store.lock import SourceLock
from pmsync.store.models import PublicationInfo, SyncRunInfo
from pmsync.store.writer import DEFAULT_BATCH_SIZE, Writer

R = TypeVar("R", bound=Record)


class Store:
    """Current records, their history, the run ledger, cursors and publications in one database.

    Open with :meth:`open` (creates or upgrades the schema) and :meth:`close` when done, or use it as
    a context manager. Reads are streamed; writes go through :meth:`writer`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to ``url`` (SQLite path or PostgreSQL) and bring the schema to the latest revision."""
        engine = create_store_engine(url)
        store = cls(engine)
        if upgrade:
            try:
                migrate.upgrade(engine)
            except OperationalError as exc:
                engine.dispose()
                raise StoreError(
                    f"cannot reach the store: {redact(str(exc.orig))}",
                    record=redact(normalize_url(url)),
                    hint="check store.url in pmsync.yaml and that the database server is running",
                ) from exc
            except SQLAlchemyError as exc:
                engine.dispose()
                raise StoreError(f"cannot migrate the store: {redact(str(exc))}") from exc
            except BaseException:
                engine.dispose()
                raise
        return store

    @property
    def url(self) -> str:
        """The database URL with the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------------

    def upgrade(self) -> str:
        return migrate.upgrade(self.engine)

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

        ``include_deleted`` also yields records deleted at their source (as last seen).
        """
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
        )

    def find_publication(self, destination: str, content_hash: str) -> PublicationInfo | None:
        """The latest publication of this exact content to ``destination``, if any."""
        return ledger.find_publication(self.engine, destination, content_hash)
