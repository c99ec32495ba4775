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
- **No orphan.** The child ends with this process: it is killed when this process stops waiting (an
  error, Ctrl-C), and on Linux the kernel kills it when this process dies (``PR_SET_PDEATHSIG``), as
  on ``kill -9`` or a scheduler's SIGTERM. The child ignores SIGINT: this process decides.
- **Errors.** An error in the child is raised here, with its source, record and hint; a child that
  dies (out of memory, killed) is a :class:`~pmsync.errors.StoreError` saying so, never a hang.
- The child never touches this process's connections: it opens its own engine, and exits with
  ``os._exit``, so nothing inherited is closed or rolled back from it.

Only where ``fork`` exists; the caller checks :func:`can_fork`.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection as PipeEnd
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text

from pmsync.errors import StoreError, survives_pickling
from pmsync.store.engine import create_store_engine

T = TypeVar("T")

#: seconds to wait for a sync's write transaction to end before reading in one scan instead
WRITERS_WAIT_S = 2.0

#: what flows from the child: ("pinned", None) once its first read is taken, then ("done", result)
#: or ("error", exception)
_PINNED, _DONE, _ERROR = "pinned", "done", "error"

#: Linux prctl(2) option: the signal this process gets when its parent dies
_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_two_halves(
    engine: Engine, first: Callable[[Connection], T], second: Callable[[Connection], T]
) -> tuple[T, T] | None:
    """``first`` run in a forked child and ``second`` here, each on a connection of its own, both
    seeing the same state of the store; ``None`` (nothing run) when another writer held the write
    lock for :data:`WRITERS_WAIT_S`."""
    writers_held = _hold_writers(engine)
    if writers_held is None:
        return None
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(engine.url.render_as_string(hide_password=False), first, sending, os.getpid()),
        name="pmsync-totals-half",
        daemon=True,  # never outlives this interpreter
    )
    try:
        with engine.connect() as conn, conn.begin():
            _first_read(conn)
            child.start()
            sending.close()  # the child's end: with it closed here, a dead child reads as end of file
            _receive(receiving, child)  # the child has taken its first read: writers may go on
            writers_held.close()
            mine = second(conn)
        theirs: T = _receive(receiving, child)
    finally:
        writers_held.close()  # rolls back: it wrote nothing
        sending.close()
        receiving.close()
        if child.pid is not None:
            if child.is_alive():
                child.kill()
            child.join()
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


def _receive(receiving: PipeEnd, child: Any) -> Any:
    try:
        kind, body = receiving.recv()
    except EOFError:
        child.join()
        raise StoreError(
            "the process summing half of the cost lines died before it finished "
            f"(exit code {child.exitcode})",
            record="cost totals",
            hint="most often it ran out of memory; run the report again, or on a bigger machine",
        ) from None
    if kind == _ERROR:
        raise body
    return body


def _child(url: str, work: Callable[[Connection], Any], sending: PipeEnd, parent: int) -> None:
    """The forked process: take its first read, say so, do ``work``, send the result, exit without
    running the parent's cleanups (the inherited connections are the parent's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status = 0
    try:
        _end_with(parent)
        engine = create_store_engine(url)
        try:
            with engine.connect() as conn, conn.begin():
                _first_read(conn)
                sending.send((_PINNED, None))
                result = work(conn)
        finally:
            engine.dispose()
        sending.send((_DONE, result))
    except BaseException as exc:
        status = 1
        with contextlib.suppress(OSError):  # OSError: the parent is gone, nobody left to tell
            sending.send((_ERROR, _portable(exc)))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _end_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux); if it already has, end now."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` itself when it survives pickling whole (pmsync's errors do, with source, record and
    hint); else a :class:`StoreError` with its type and text."""
    if survives_pickling(exc):
        return exc
    return StoreError(
        f"summing half of the cost lines failed: {type(exc).__name__}: {exc}", record="cost totals"
    )
