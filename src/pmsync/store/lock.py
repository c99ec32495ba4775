"""Locks that keep two sync runs of one source apart, on one machine or many.

- PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated connection for the whole
  run. The server releases it when that connection ends, including when the process is killed.
- SQLite: an OS file lock on a lock file in ``<database>.locks/`` next to the database file, taken
  with ``portalocker`` (``flock`` on Linux and macOS, ``LockFileEx`` on Windows, so pmsync imports
  and locks the same way everywhere). The OS releases it when the process dies. (SQLite stores are
  single-machine by nature; a lock on a network filesystem is only as good as that filesystem's.)
- In-memory SQLite: a process-local lock (nothing else can open that database anyway).

``SourceLock.acquire`` never waits: a second run on the same source fails fast with
:class:`~pmsync.errors.SourceLockedError`, which the CLI reports with exit code 5.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import portalocker
from sqlalchemy import Connection, Engine, text

from pmsync.errors import SourceLockedError, StoreError

_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` derived from the lock's name."""
    digest = hashlib.sha256(f"pmsync:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def sqlite_lock_dir(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve().parent / (Path(database).name + ".locks")


class SourceLock:
    """An exclusive, non-blocking lock named ``name`` (``source:<source name>``) on one store."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None
        self._thread_lock: threading.Lock | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`SourceLockedError` at once."""
        if self.engine.dialect.name == "postgresql":
            self._acquire_advisory()
        elif self.engine.dialect.name == "sqlite":
            lock_dir = sqlite_lock_dir(self.engine)
            if lock_dir is None:
                self._acquire_in_process()
            else:
                self._acquire_file(lock_dir)
        else:  # pragma: no cover - pmsync supports SQLite and PostgreSQL
            raise StoreError(f"no lock implementation for {self.engine.dialect.name}")

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(self.name)}
                )
            finally:
                self._connection.close()
                self._connection = None
        if self._file is not None:
            portalocker.unlock(self._file)
            self._file.close()
            self._file = None
        if self._thread_lock is not None:
            self._thread_lock.release()
            self._thread_lock = None

    def __enter__(self) -> SourceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def _locked(self) -> SourceLockedError:
        what = self.name.removeprefix("source:")
        return SourceLockedError(
            "another sync run holds the lock for this source; nothing was done",
            source=what,
            hint="wait for it to finish (see `pmsync runs`); the lock is released when that process ends",
        )

    def _acquire_advisory(self) -> None:
        # Autocommit: the lock belongs to the session, and no transaction stays open while it is held.
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(self.name)}
            ).scalar_one()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            raise self._locked()
        self._connection = conn

    def _acquire_file(self, lock_dir: Path) -> None:
        lock_dir.mkdir(parents=True, exist_ok=True)
        path = lock_dir / (self.name.replace(":", "-").replace("/", "_") + ".lock")
        handle = open(path, "a+b")  # noqa: SIM115 - held open for as long as the lock is held
        try:
            portalocker.lock(handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
        except portalocker.LockException:
            handle.close()
            raise self._locked() from None
        # Who holds it, for a human looking at the folder; the lock itself is the flock.
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle

    def _acquire_in_process(self) -> None:
        key = f"{id(self.engine)}:{self.name}"
        with _PROCESS_LOCKS_GUARD:
            lock = _PROCESS_LOCKS.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            raise self._locked()
        self._thread_lock = lock


@contextmanager
def store_wide_lock(engine: Engine, name: str) -> Iterator[None]:
    """A blocking lock over the whole store (used around migrations)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": advisory_key(name)})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(name)})
        return
    lock_dir = sqlite_lock_dir(engine)
    if lock_dir is None:
        yield
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "a+b") as handle:
        portalocker.lock(handle, portalocker.LockFlags.EXCLUSIVE)
        try:
            yield
        finally:
            portalocker.unlock(handle)
