"""Opening a database: URL normalization and the per-dialect settings pmsync relies on.

SQLite: WAL journal (readers never block the writer), a generous busy timeout (sync jobs for
different sources wait for each other's commits instead of failing), foreign keys on, and write
transactions that start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
deadlocking when both upgrade a read lock. PostgreSQL: the psycopg 3 driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pmsync.errors import StoreError
from pmsync.store.payload import serialize_json
from pmsync.store.sqlite_functions import register_sqlite_functions

#: seconds a SQLite writer waits for another writer's transaction to finish
SQLITE_BUSY_TIMEOUT = 120
#: SQLite's page cache per connection, KiB. The default 2 MB made a big transaction (a finance file
#: of 10^5 lines is one) spill its pages to the WAL and read index pages back. Measured on the
#: finance CSV sync of 125,000 lines (store process CPU): 2 MB 5.3-5.7 s, 8 MB 4.0-4.3 s, 16 MB
#: 4.1-4.2 s, 64 MB 4.1-4.7 s: past 8 MB nothing is gained. The cache keeps what it read between
#: transactions, so it fills up to this size as the database grows: at 64 MB a Jira sync's peak
#: memory grew 1.23x from 10^4 to 10^5 issues (the database grows from 26 to 265 MB); at 16 MB
#: both sizes fill it, and memory stays flat (docs/jira.md).
SQLITE_CACHE_KIB = 16384
#: execution option asking for a write transaction (``BEGIN IMMEDIATE`` on SQLite)
WRITE_TRANSACTION = "pmsync_write"
#: psycopg's prepare_threshold: executions before a single statement is prepared (here: never)
NEVER_PREPARE_SINGLE_STATEMENTS = 2**31 - 1


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3, the driver pmsync installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_store_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"not a database URL: {url!r}",
            record="store.url",
            hint="e.g. sqlite:///pmsync.db or postgresql+psycopg://user@host/db",
        ) from exc
    kwargs: dict[str, Any] = {"json_serializer": serialize_json}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        # Server-side prepared statements for executemany only: psycopg always prepares those, so a
        # batch of 500 INSERTs is parsed and planned once instead of 500 times (PostgreSQL loads 1.4x
        # faster). Single statements are never prepared (the threshold is never reached): PostgreSQL
        # may switch a prepared batch lookup to a generic plan made while the table was still small,
        # a whole-table scan from then on, and the first sync of a big source goes quadratic.
        kwargs["connect_args"] = {"prepare_threshold": NEVER_PREPARE_SINGLE_STATEMENTS}
    try:
        engine = create_engine(url, **kwargs)
    except Exception as exc:  # missing driver, bad options
        raise StoreError(f"cannot open the store: {exc}", record="store.url") from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    # PostgreSQL: plain executemany INSERTs are left to psycopg, which pipelines them in one round
    # trip. Rewriting them into multi-row statements (insertmanyvalues) was 1.6x slower for a batch
    # of new records: psycopg parses a long statement text in Python, and caches only short ones.
    return engine


def lives_in_this_process(engine: Engine) -> bool:
    """Whether the database exists only inside this process (in-memory SQLite): no other process,
    not even one forked from this, can open it."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return False
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module, so BEGIN is emitted by us (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not lives_in_this_process(engine):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_TRANSACTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it takes the write lock up front (``BEGIN IMMEDIATE``),
    so a read-then-write never fails with "database is locked" when another writer committed between."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_TRANSACTION: True})
        with conn.begin():
            yield conn
