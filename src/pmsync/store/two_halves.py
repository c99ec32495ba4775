"""Two reads of one SQLite file at once, one in a forked process, both of the same state of the store.

SQLite runs a query on one core. :mod:`pmsync.store.totals` sums a large ledger in two halves of
its projects, one here and one in a child process, to use a second core. What makes the halves one
answer:

- **One state.** Each half reads in a transaction of its own, and in WAL mode a transaction sees
  the store as it was at its first read. A sync may commit between the two first reads, and a sync's
  versions are stamped when its transaction began, not when it commits: a line moved from one half's
  projects to the other's would be counted in both, or in neither, even at a past moment. So both
  first reads are taken while a write transaction of this process's own (``BEGIN IMMEDIATE``, on a
  connection used for nothing else) keeps any other writer from committing; it is let go as soon as
  the child has read, a few milliseconds. When a sync is writing and does not finish within
  :data:`WRITERS_WAIT_S`, :func:`in_two_halves` says so and the caller reads in one scan instead: a
  report never waits long for a sync, nor fails because of one.
- **No orphan, errors whole**: the child is run by :func:`pmsync.forked.forked` (killed when this
  process stops waiting or dies; its error raised here with source, record and hint).
- The child never touches this process's connections: it opens its own engine.

Only where ``fork`` exists; the caller checks :func:`can_fork`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine, text

from pmsync.errors import StoreError
from pmsync.forked import a_second_process_helps, can_fork, errors_of, forked
from pmsync.store.engine import create_store_engine

__all__ = ["WRITERS_WAIT_S", "a_second_process_helps", "can_fork", "in_two_halves"]

T = TypeVar("T")

#: seconds to wait for a sync's write transaction to end before reading in one scan instead
WRITERS_WAIT_S = 2.0

_DIED, _FAILED = errors_of("summing half of the cost lines", StoreError, "cost totals")


def in_two_halves(
    engine: Engine, first: Callable[[Connection], T], second: Callable[[Connection], T]
) -> tuple[T, T] | None:
    """``first`` run in a forked child and ``second`` here, each on a connection of its own, both
    seeing the same state of the store; ``None`` (nothing run) when another writer held the write
    lock for :data:`WRITERS_WAIT_S`."""
    writers_held = _hold_writers(engine)
    if writers_held is None:
        return None
    url = engine.url.render_as_string(hide_password=False)
    try:
        with engine.connect() as conn, conn.begin():
            _first_read(conn)
            with forked(
                lambda ready: _child_half(url, first, ready),
                name="pmsync-totals-half",
                died=_DIED,
                failed=_FAILED,
            ) as child:
                child.ready()  # the child has taken its first read: writers may go on
                writers_held.close()
                mine = second(conn)
                theirs: T = child.result()
    finally:
        writers_held.close()  # rolls back: it wrote nothing
    return theirs, mine


def _hold_writers(engine: Engine) -> sqlite3.Connection | None:
    """A write transaction on a connection of its own, so that no other writer commits while it is
    held; ``None`` if another writer kept the lock for :data:`WRITERS_WAIT_S` (or cannot be kept
    from it: a read-only file)."""
    database = engine.url.database or ""
    uri = str(engine.url.query.get("uri", "")).lower() in ("true", "1")
    held = sqlite3.connect(database, timeout=WRITERS_WAIT_S, isolation_level=None, uri=uri)
    try:
        held.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        held.close()
        return None
    return held


def _first_read(conn: Connection) -> None:
    """In WAL mode a transaction's view of the store is fixed by its first read of the file."""
    conn.execute(text("SELECT 1 FROM records LIMIT 1")).all()


def _child_half(url: str, work: Callable[[Connection], T], ready: Callable[[], None]) -> T:
    """In the forked child: take the first read on an engine of its own, say so, do ``work``."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            _first_read(conn)
            ready()
            return work(conn)
    finally:
        engine.dispose()
